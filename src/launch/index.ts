// Engine launchers for IMD: race-free ports (private network namespace,
// port 0, or bind-probe-and-retry) and connection once the engine listens.
export {
  ImdLaunch,
  LaunchError,
  chooseIsolation,
  adapterFor,
  IMD_LAUNCH_ENGINES,
  type ImdLaunchOptions,
  type ImdReady,
  type ImdEngineName,
  type LaunchLog,
  type LaunchErrorKind,
} from './launcher.js';
export type { Isolation, PortRequest } from './adapter.js';
export { netnsSupport, type NetnsSupport } from './netns.js';
export { lammpsUnitsFromCommand, LAMMPS_PORT_VARIABLE } from './lammps.js';
export { probeFreePort } from './probe.js';
export type { EngineExit } from './supervised.js';
