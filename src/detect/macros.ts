/** Falco-style macros: a named CEL snippet substituted, parenthesised, wherever its name appears. */

/** Thrown with the chain of macros that led to the problem. */
export class MacroError extends Error {}

const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_]/;

/**
 * Replace macro names in `condition` by `(body)`, recursively. Names inside string literals,
 * after a `.` (a field) or before `(` (a function) are left alone.
 */
export function expandMacros(
  condition: string,
  macros: ReadonlyMap<string, string>,
  chain: string[] = [],
): string {
  let out = '';
  let i = 0;
  while (i < condition.length) {
    const c = condition[i] as string;
    if (c === '"' || c === "'") {
      const end = skipString(condition, i);
      out += condition.slice(i, end);
      i = end;
    } else if (IDENT_START.test(c) && !IDENT_PART.test(condition[i - 1] ?? ' ')) {
      let end = i + 1;
      while (end < condition.length && IDENT_PART.test(condition[end] as string)) end++;
      const name = condition.slice(i, end);
      const body = macros.get(name);
      if (body !== undefined && !isFieldOrCall(condition, i, end) && !isStringPrefix(condition, end)) {
        if (chain.includes(name)) throw new MacroError(`macro cycle ${[...chain, name].join(' -> ')}`);
        out += `(${expandMacros(body, macros, [...chain, name])})`;
      } else {
        out += name;
      }
      i = end;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

function isFieldOrCall(text: string, start: number, end: number): boolean {
  let before = start - 1;
  while (before >= 0 && /\s/.test(text[before] as string)) before--;
  let after = end;
  while (after < text.length && /\s/.test(text[after] as string)) after++;
  return text[before] === '.' || text[after] === '(';
}

/** `r"..."` and `b'...'` are literals, not identifiers named r or b. */
function isStringPrefix(text: string, end: number): boolean {
  return text[end] === '"' || text[end] === "'";
}

function skipString(text: string, start: number): number {
  const quote = text[start] as string;
  const triple = text.startsWith(quote.repeat(3), start);
  const closer = triple ? quote.repeat(3) : quote;
  let i = start + closer.length;
  while (i < text.length) {
    if (text[i] === '\\') i += 2;
    else if (text.startsWith(closer, i)) return i + closer.length;
    else i++;
  }
  return text.length;
}
