/**
 * Slow-path helpers for error messages: find row `r` of a CSV chunk and the
 * text of one of its fields, quote-aware. Only called when reporting.
 */

/**
 * Byte offset of row `row`'s first byte and its physical line offset from the chunk start; with
 * `skipBlank` (two or more fields per row) blank lines are no rows, as parseCsvChunk skips them.
 */
export function locateRow(bytes: Uint8Array, row: number, skipBlank = false): { start: number; lineOffset: number } {
  let inQuote = false, r = 0, lines = 0, i = 0;
  const n = bytes.length;
  const skip = (): void => {
    // blank lines at a row start: '\n' or '\r\n'
    while (skipBlank && i < n && (bytes[i] === 10 || (bytes[i] === 13 && i + 1 < n && bytes[i + 1] === 10))) {
      i += bytes[i] === 10 ? 1 : 2;
      lines++;
    }
  };
  skip();
  while (r < row && i < n) {
    const c = bytes[i++]!;
    if (c === 34) inQuote = !inQuote;
    else if (c === 10) {
      lines++;
      if (!inQuote) {
        r++;
        skip();
      }
    }
  }
  return { start: i, lineOffset: lines };
}

/** The text of field `field` (0-based) of the row starting at `start`, unquoted, as written. */
export function fieldText(bytes: Uint8Array, start: number, field: number, delimiter: number): string {
  let i = start, f = 0;
  const n = bytes.length;
  const dec = new TextDecoder();
  for (;;) {
    let text = '';
    if (i < n && bytes[i] === 34) {
      // quoted field: "" is an escaped quote
      i++;
      const parts: string[] = [];
      let s = i;
      for (;;) {
        if (i >= n) { parts.push(dec.decode(bytes.subarray(s, i))); break; }
        if (bytes[i] === 34) {
          parts.push(dec.decode(bytes.subarray(s, i)));
          if (i + 1 < n && bytes[i + 1] === 34) { parts.push('"'); i += 2; s = i; continue; }
          i++;
          break;
        }
        i++;
      }
      text = parts.join('');
      // skip anything up to the delimiter / end of row
      while (i < n && bytes[i] !== delimiter && bytes[i] !== 10) i++;
    } else {
      const s = i;
      while (i < n && bytes[i] !== delimiter && bytes[i] !== 10) i++;
      let e = i;
      if (e > s && bytes[e - 1] === 13 && (e === n || bytes[e] === 10)) e--;
      text = dec.decode(bytes.subarray(s, e));
    }
    if (f === field) return text;
    if (i >= n || bytes[i] === 10) return '';
    i++; // delimiter
    f++;
  }
}
