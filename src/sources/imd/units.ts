// Per-engine unit conversion to westream's canonical units (DESIGN.md):
// Å, ps, Å/ps, kJ/(mol·Å), kJ/mol. The IMD v3 spec fixes those units, but
// engines do not all comply (shared/reference/imd-protocol.md §7):
//   - GROMACS (v2 upstream, v3 fork): spec units (positions converted nm → Å
//     by the engine, energies kJ/mol).
//   - LAMMPS v3: raw values in the input's `units` style, no conversion.
//   - NAMD: positions Å, velocities Å/ps; forces and energies in kcal (the
//     VMD convention; unverified against a NAMD v3 build).

export type ImdEngine = 'gromacs' | 'lammps' | 'namd' | 'generic';
export const IMD_ENGINES: readonly ImdEngine[] = ['gromacs', 'lammps', 'namd', 'generic'];

/** Multiply an engine value by these to get westream units. */
export interface UnitScales {
  /** → Å (positions, box). */
  length: number;
  /** → ps (time, dt). */
  time: number;
  /** → Å/ps. */
  velocity: number;
  /** → kJ/(mol·Å). */
  force: number;
  /** → kJ/mol. */
  energy: number;
}

const KCAL = 4.184;
const EV = 96.48533212331; // kJ/mol per eV (1.602176634e-19 J × 6.02214076e23 / 1000)
const HARTREE = 2625.4996394799; // kJ/mol
const BOHR = 0.529177210903; // Å
const NA = 6.02214076e23;
// LAMMPS `units electron`: velocity in Bohr per atomic time unit of 1.03275e-15 s (LAMMPS docs).
const ELECTRON_TIME_PS = 1.03275e-3;

/** LAMMPS `units` styles and their factors (docs.lammps.org/units.html). */
export const LAMMPS_UNITS: Readonly<Record<string, UnitScales>> = Object.freeze({
  real: { length: 1, time: 1e-3, velocity: 1e3, force: KCAL, energy: KCAL },
  metal: { length: 1, time: 1, velocity: 1, force: EV, energy: EV },
  si: { length: 1e10, time: 1e12, velocity: 1e-2, force: NA * 1e-13, energy: NA * 1e-3 },
  cgs: { length: 1e8, time: 1e12, velocity: 1e-4, force: NA * 1e-18, energy: NA * 1e-10 },
  electron: { length: BOHR, time: 1e-3, velocity: BOHR / ELECTRON_TIME_PS, force: HARTREE / BOHR, energy: HARTREE },
  micro: { length: 1e4, time: 1e6, velocity: 1e-2, force: NA * 1e-22, energy: NA * 1e-18 },
  nano: { length: 10, time: 1e3, velocity: 1e-2, force: NA * 1e-25, energy: NA * 1e-24 },
  // Reduced units cannot be converted: values pass through as σ, τ, ε.
  lj: { length: 1, time: 1, velocity: 1, force: 1, energy: 1 },
});

/** Why `style` is not a LAMMPS units style, or undefined when it is one. */
export function lammpsUnitsError(style: string): string | undefined {
  return Object.hasOwn(LAMMPS_UNITS, style) ? undefined : `unknown LAMMPS units style "${style}": use ${Object.keys(LAMMPS_UNITS).join(', ')}`;
}

const IDENTITY: UnitScales = Object.freeze({ length: 1, time: 1, velocity: 1, force: 1, energy: 1 });

export interface UnitChoice {
  scales: UnitScales;
  /** A caveat worth logging once (reduced units, unverified engine units). */
  note?: string;
}

/**
 * The conversion for `engine`. LAMMPS needs its `units` style; `overrides`
 * replaces single factors (for engine builds that deviate).
 */
export function unitScales(engine: ImdEngine, lammpsUnits?: string, overrides?: Partial<UnitScales>): UnitChoice {
  let choice: UnitChoice;
  switch (engine) {
    case 'gromacs':
    case 'generic':
      choice = { scales: IDENTITY };
      break;
    case 'namd':
      choice = {
        scales: { length: 1, time: 1, velocity: 1, force: KCAL, energy: KCAL },
        note: 'NAMD forces and energies are taken as kcal/mol(/Å) and converted to kJ (not verified against a NAMD IMD v3 build)',
      };
      break;
    case 'lammps': {
      if (lammpsUnits === undefined) {
        throw new Error(
          'LAMMPS sends raw values in its `units` style: say which one (lammpsUnits / --imd-units: ' +
            `${Object.keys(LAMMPS_UNITS).join(', ')})`,
        );
      }
      const s = LAMMPS_UNITS[lammpsUnits];
      if (!s) {
        throw new Error(`unknown LAMMPS units style "${lammpsUnits}": expected one of ${Object.keys(LAMMPS_UNITS).join(', ')}`);
      }
      choice = { scales: s };
      if (lammpsUnits === 'lj') {
        choice.note = 'LAMMPS `units lj` are reduced units: frames carry σ, τ and ε-based values unconverted';
      }
      break;
    }
    default:
      throw new Error(`unknown IMD engine "${engine as string}": expected one of ${IMD_ENGINES.join(', ')}`);
  }
  if (overrides) choice = { ...choice, scales: { ...choice.scales, ...overrides } };
  return choice;
}

/**
 * The MD step a v2 frame's positions belong to, from its ENERGIES record.
 * GROMACS (every version through 2026) fills the record after incrementing
 * its step counter, so tstep is one ahead of the positions sent with it
 * (verified against the TRR of the same run, GROMACS 2022.5).
 */
export function v2StepFromEnergies(engine: ImdEngine, tstep: number): number {
  return engine === 'gromacs' ? tstep - 1 : tstep;
}
