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
  /** The selection as the message quotes it: whole, or (when long) the part around `position`. */
  readonly quoted: string;
  constructor(
    readonly reason: string,
    readonly selection: string,
    /** 0-based offset of the offending character (the end of the string when something is missing). */
    readonly position: number,
  ) {
    const { text, caret } = excerpt(selection, position);
    super(`${reason} at character ${position + 1} of selection "${text}"\n  ${text}\n  ${' '.repeat(caret)}^`);
    this.quoted = text;
  }
}

/** A long selection is quoted only around the offending character (a 100 000-term one would flood the log). */
function excerpt(selection: string, position: number, width = 60): { text: string; caret: number } {
  if (selection.length <= 2 * width + 20) return { text: selection, caret: position };
  const from = Math.max(0, position - width);
  const to = Math.min(selection.length, position + width);
  const head = from > 0 ? '…' : '';
  return { text: head + selection.slice(from, to) + (to < selection.length ? '…' : ''), caret: position - from + head.length };
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

/** A selection for a message: whole when short, else its start and length. */
export function quoteSelection(selection: string, max = 140): string {
  return selection.length <= max ? selection : `${selection.slice(0, max)}… (${selection.length} characters)`;
}
