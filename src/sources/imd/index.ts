// IMD v2/v3 source: frames from GROMACS, LAMMPS and NAMD over their IMD socket.
export {
  fromImd,
  ImdObservable,
  type ImdOptions,
  type ImdConnect,
  type ImdFrame,
  type ImdEnergies,
  type ImdSessionEvent,
  type ImdStats,
} from './client.js';
export { ImdError, ImdType, type SessionInfo } from './protocol.js';
export { unitScales, LAMMPS_UNITS, IMD_ENGINES, type ImdEngine, type UnitScales } from './units.js';
