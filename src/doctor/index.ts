// `westream doctor`'s checks, in the order they print: what westream itself
// needs, the Python side engines stream from, then what is optional.
import type { CheckResult } from './check.js';
import { engineChecks, westConfigCheck } from './engines.js';
import { pythonChecks } from './python.js';
import { addonCheck, channelCheck, fifoCheck, netnsCheck, nodeCheck, tmpfsCheck } from './system.js';

export type { CheckResult, Status } from './check.js';

export interface DoctorOptions {
  python?: string;
  westCfg?: string;
  /** Skip the Python checks (a machine where engines use the C producer or files only). */
  noPython?: boolean;
}

export async function* doctorChecks(options: DoctorOptions = {}): AsyncGenerator<CheckResult> {
  yield nodeCheck();
  const addon = addonCheck();
  yield addon;
  if (addon.status !== 'fail') {
    yield await channelCheck(false, 20_000, 50);
    yield await channelCheck(true, 1_000, 10);
    yield fifoCheck();
  }
  yield tmpfsCheck();
  yield netnsCheck();
  if (!options.noPython) yield* await pythonChecks(options.python);
  yield* await engineChecks();
  yield westConfigCheck(options.westCfg);
}
