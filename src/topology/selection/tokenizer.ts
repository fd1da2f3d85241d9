// Selection strings → tokens with their positions (for error messages).

export interface Token {
  /** The text ("name", "CA", "(", "3.5"). */
  text: string;
  /** 0-based character offset in the selection string. */
  pos: number;
}

/** A selection that cannot be parsed or evaluated; points at the offending character. */
export class SelectionError extends Error {
  override name = 'SelectionError';
  constructor(
    readonly reason: string,
    readonly selection: string,
    /** 0-based offset of the offending character (the end of the string when something is missing). */
    readonly position: number,
  ) {
    super(`${reason} at character ${position + 1} of selection "${selection}"\n  ${selection}\n  ${' '.repeat(position)}^`);
  }
}

/** Splits at whitespace; parentheses are tokens of their own (as MDAnalysis). */
export function tokenize(selection: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < selection.length) {
    const c = selection[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '(' || c === ')') {
      tokens.push({ text: c, pos: i });
      i++;
      continue;
    }
    const start = i;
    while (i < selection.length && !/\s/.test(selection[i]) && selection[i] !== '(' && selection[i] !== ')') i++;
    tokens.push({ text: selection.slice(start, i), pos: start });
  }
  return tokens;
}
