// The selection language: MDAnalysis syntax → AtomGroup.
export { AtomGroup, EmptySelectionError, selectAtoms, checkAtomCount, type SelectOptions } from './atom-group.js';
export { parseSelection, globToRegExp } from './parser.js';
export { SelectionError, tokenize, type Token } from './tokenizer.js';
export { isDynamic, type Node } from './ast.js';
export { PROTEIN_RESIDUES, NUCLEIC_RESIDUES, WATER_RESIDUES } from './evaluate.js';
