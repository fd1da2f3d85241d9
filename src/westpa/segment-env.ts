// The WESTPA segment a process was started for, read from its environment
// (reference: westpa-contract.md §2).
export type InitpointType = 'SEG_INITPOINT_CONTINUES' | 'SEG_INITPOINT_NEWTRAJ';

export interface SegmentEnv {
  iteration: number;
  segId: number;
  /** Segment directory (also the propagator's cwd). */
  dataRef?: string;
  /** Parent segment directory, or the basis/initial state reference. */
  parentDataRef?: string;
  initpoint?: InitpointType;
  /** Where WESTPA reads the pcoord from (a temp file it created). */
  pcoordReturn: string;
  /** WEST_<NAME>_RETURN for each auxiliary dataset, keyed by lower-case name. */
  auxReturns: Map<string, string>;
  simRoot?: string;
}

/** A WESTPA variable is missing or malformed: says which and what to do. */
export class WestpaEnvError extends Error {
  override name = 'WestpaEnvError';
}

const RETURN = /^WEST_(.+)_RETURN$/;
const NOT_DATASETS = new Set(['PCOORD', 'TRAJECTORY', 'RESTART', 'LOG']);

function integer(env: NodeJS.ProcessEnv, name: string, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') {
    throw new WestpaEnvError(`${name} is not set: run this as WESTPA's propagator (from runseg.sh), or set it yourself`);
  }
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new WestpaEnvError(`${name} must be an integer >= ${min}, got "${raw}"`);
  return n;
}

/** Reads the propagator's segment environment. */
export function readSegmentEnv(env: NodeJS.ProcessEnv = process.env): SegmentEnv {
  const pcoordReturn = env.WEST_PCOORD_RETURN;
  if (!pcoordReturn) {
    throw new WestpaEnvError('WEST_PCOORD_RETURN is not set: WESTPA sets it for the propagator; outside WESTPA use --pcoord-out');
  }
  const initpoint = env.WEST_CURRENT_SEG_INITPOINT_TYPE;
  if (initpoint !== undefined && initpoint !== 'SEG_INITPOINT_CONTINUES' && initpoint !== 'SEG_INITPOINT_NEWTRAJ') {
    throw new WestpaEnvError(`WEST_CURRENT_SEG_INITPOINT_TYPE is "${initpoint}", expected SEG_INITPOINT_CONTINUES or SEG_INITPOINT_NEWTRAJ`);
  }
  const auxReturns = new Map<string, string>();
  for (const [key, value] of Object.entries(env)) {
    const m = RETURN.exec(key);
    if (m && value && !NOT_DATASETS.has(m[1])) auxReturns.set(m[1].toLowerCase(), value);
  }
  return {
    iteration: integer(env, 'WEST_CURRENT_ITER', 0),
    segId: integer(env, 'WEST_CURRENT_SEG_ID', 0),
    dataRef: env.WEST_CURRENT_SEG_DATA_REF || undefined,
    parentDataRef: env.WEST_PARENT_DATA_REF || undefined,
    initpoint: initpoint as InitpointType | undefined,
    pcoordReturn,
    auxReturns,
    simRoot: env.WEST_SIM_ROOT || undefined,
  };
}

/** Describes a segment for log lines: "iteration 3 segment 12". */
export function segmentName(s: Pick<SegmentEnv, 'iteration' | 'segId'>): string {
  return `iteration ${s.iteration} segment ${s.segId}`;
}
