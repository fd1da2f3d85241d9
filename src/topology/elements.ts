// Element data: symbols by atomic number, and the mass table and name-based
// element guesser of MDAnalysis (MDAnalysis/guesser/tables.py, default_guesser.py),
// so that guessed masses and elements agree with MDAnalysis atom for atom.

/** Element symbols by atomic number (index 0 is unused). */
export const SYMBOLS: readonly string[] = [
  '', 'H', 'He', 'Li', 'Be', 'B', 'C', 'N', 'O', 'F', 'Ne', 'Na', 'Mg', 'Al', 'Si', 'P', 'S', 'Cl', 'Ar',
  'K', 'Ca', 'Sc', 'Ti', 'V', 'Cr', 'Mn', 'Fe', 'Co', 'Ni', 'Cu', 'Zn', 'Ga', 'Ge', 'As', 'Se', 'Br', 'Kr',
  'Rb', 'Sr', 'Y', 'Zr', 'Nb', 'Mo', 'Tc', 'Ru', 'Rh', 'Pd', 'Ag', 'Cd', 'In', 'Sn', 'Sb', 'Te', 'I', 'Xe',
  'Cs', 'Ba', 'La', 'Ce', 'Pr', 'Nd', 'Pm', 'Sm', 'Eu', 'Gd', 'Tb', 'Dy', 'Ho', 'Er', 'Tm', 'Yb', 'Lu', 'Hf',
  'Ta', 'W', 'Re', 'Os', 'Ir', 'Pt', 'Au', 'Hg', 'Tl', 'Pb', 'Bi', 'Po', 'At', 'Rn', 'Fr', 'Ra', 'Ac', 'Th',
  'Pa', 'U', 'Np', 'Pu', 'Am', 'Cm', 'Bk', 'Cf', 'Es', 'Fm', 'Md', 'No', 'Lr', 'Rf', 'Db', 'Sg', 'Bh', 'Hs',
  'Mt', 'Ds', 'Rg', 'Cn', 'Nh', 'Fl', 'Mc', 'Lv', 'Ts', 'Og',
];

/** MDAnalysis's mass table (u). Looked up by the element as given, then upper-cased. */
const MASSES: Readonly<Record<string, number>> = {
  'Ac': 227.028, 'Al': 26.981539, 'Am': 243.0, 'Sb': 121.757, 'Ar': 39.948, 'As': 74.92159, 'At': 210.0,
  'Ba': 137.327, 'Bk': 247.0, 'Be': 9.012182, 'Bi': 208.98037, 'Bh': 264.0, 'B': 10.811, 'BR': 79.904,
  'Cd': 112.411, 'CA': 40.08, 'Cf': 251.0, 'C': 12.011, 'Ce': 140.116, 'CS': 132.9, 'CL': 35.45,
  'Cr': 51.9961, 'Co': 58.9332, 'CU': 63.546, 'Cm': 247.0, 'Db': 262.0, 'Dy': 162.5, 'Es': 252.0,
  'Er': 167.26, 'Eu': 151.965, 'Fm': 257.0, 'F': 18.998, 'Fr': 223.0, 'Gd': 157.25, 'Ga': 69.723,
  'Ge': 72.61, 'Au': 196.96654, 'Hf': 178.49, 'Hs': 265.0, 'HE': 4.0026, 'Ho': 164.93032, 'H': 1.008,
  'In': 114.82, 'I': 126.9045, 'Ir': 192.22, 'FE': 55.847, 'Kr': 83.8, 'La': 138.9055, 'Lr': 262.0,
  'Pb': 207.2, 'Li': 6.941, 'Lu': 174.967, 'MG': 24.305, 'Mn': 54.93805, 'Mt': 266.0, 'Md': 258.0,
  'Hg': 200.59, 'Mo': 95.94, 'N': 14.007, 'NA': 22.98977, 'Nd': 144.24, 'NE': 20.1797, 'Np': 237.048,
  'Ni': 58.6934, 'Nb': 92.90638, 'No': 259.0, 'Os': 190.2, 'O': 15.999, 'Pd': 106.42, 'P': 30.974,
  'Pt': 195.08, 'Pu': 244.0, 'Po': 209.0, 'K': 39.102, 'Pr': 140.90765, 'Pm': 145.0, 'Pa': 231.0359,
  'Ra': 226.025, 'Rn': 222.0, 'Re': 186.207, 'Rh': 102.9055, 'RB': 85.4678, 'Ru': 101.07, 'Rf': 261.0,
  'Sm': 150.36, 'Sc': 44.95591, 'Sg': 263.0, 'Se': 78.96, 'Si': 28.0855, 'Ag': 107.8682, 'Na': 22.989768,
  'Sr': 87.62, 'S': 32.06, 'Ta': 180.9479, 'Tc': 98.0, 'Te': 127.6, 'Tb': 158.92534, 'Tl': 204.3833,
  'Th': 232.0381, 'Tm': 168.93421, 'Sn': 118.71, 'Ti': 47.88, 'W': 183.85, 'U': 238.0289, 'V': 50.9415,
  'Xe': 131.29, 'Yb': 173.04, 'Y': 88.90585, 'ZN': 65.37, 'Zr': 91.224, 'DUMMY': 0.0,
};

/** Names that do not start with their element symbol (ions, CHARMM/GROMOS names). */
const ATOM_ELEMENTS: Readonly<Record<string, string>> = {
  'BR': 'BR', 'CAL': 'CA', 'C0': 'CA', 'CA2+': 'CA', 'CES': 'CS', 'CLA': 'CL', 'CLAL': 'CL', 'CL': 'CL',
  'CL-': 'CL', 'IOD': 'I', 'FE': 'FE', 'FE2': 'FE', 'LIT': 'LI', 'LI': 'LI', 'LI+': 'LI', 'QL': 'LI',
  'MG': 'MG', 'MG2+': 'MG', 'K': 'K', 'POT': 'K', 'K+': 'K', 'QK': 'K', 'SOD': 'NA', 'NA': 'NA', 'NA+': 'NA',
  'QN': 'NA', 'ZN': 'ZN', 'CU': 'CU', 'CS': 'CS', 'CS+': 'CS', 'QC': 'CE', 'RB': 'RB', 'QR': 'RB', 'BC': 'C',
  'AC': 'C', 'MW': 'DUMMY',
};

/** Upper-case symbols the guesser accepts as they are. */
const GUESS_ELEMENTS = new Set(['AL', 'B', 'BE', 'C', 'CL', 'F', 'H', 'K', 'LI', 'MG', 'N', 'NA', 'O', 'P', 'S', 'SI']);

const SYMBOL_SET = new Set(SYMBOLS.slice(1));

/** The element symbol for an atomic number, or '' when out of range. */
export function elementFromAtomicNumber(z: number): string {
  return Number.isInteger(z) && z > 0 && z < SYMBOLS.length ? SYMBOLS[z] : '';
}

/** A valid element symbol in canonical case ('NA' → 'Na'), or '' when it is none. */
export function normalizeElement(symbol: string): string {
  const s = symbol.trim();
  if (!s) return '';
  const c = s[0].toUpperCase() + s.slice(1).toLowerCase();
  return SYMBOL_SET.has(c) ? c : '';
}

/**
 * MDAnalysis's mass lookup (u): the table by the key as given, then upper-cased;
 * 0 when unknown (as MDAnalysis does until 3.0).
 */
export function massOf(elementOrType: string): number {
  const m = MASSES[elementOrType] ?? MASSES[elementOrType.toUpperCase()];
  return m ?? 0;
}

/**
 * Guesses an element from an atom name or type exactly as MDAnalysis's
 * `DefaultGuesser.guess_atom_element`: the special table first, then the name
 * without digits and +-* shortened from the right (or left) until it is a
 * known symbol; else its first character. The result is upper case ('CL').
 */
export function guessElement(atomname: string): string {
  if (atomname === '') return '';
  const direct = ATOM_ELEMENTS[atomname.toUpperCase()];
  if (direct) return direct;
  const noSymbols = atomname.replace(/[*+-]/g, '');
  let name = noSymbols.replace(/[0-9]/g, '').toUpperCase();
  if (ATOM_ELEMENTS[name]) return ATOM_ELEMENTS[name];
  while (name) {
    if (GUESS_ELEMENTS.has(name)) return name;
    if (GUESS_ELEMENTS.has(name.slice(0, -1))) return name.slice(0, -1);
    if (GUESS_ELEMENTS.has(name.slice(1))) return name.slice(1);
    if (name.length <= 2) return name[0];
    name = name.slice(0, -1);
  }
  return noSymbols;
}

/** Element (canonical case) of an atom whose mass is known, by the nearest standard mass within 0.5 u. */
export function elementFromMass(mass: number): string {
  let best = '';
  let bestErr = 0.5;
  for (let z = 1; z < 55; z++) {
    const m = massOf(SYMBOLS[z]);
    if (m > 0 && Math.abs(m - mass) < bestErr) {
      bestErr = Math.abs(m - mass);
      best = SYMBOLS[z];
    }
  }
  return best;
}
