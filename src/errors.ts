/**
 * Errors meant for users. Everything that is not a LossevalError is a bug and
 * prints its stack (see cli/main.ts).
 */

/** Where a data error was found. `line` is 1-based for CSV (header = line 1), `row` 1-based for Arrow. */
export interface DataLocation {
  readonly file: string;
  readonly line?: number;
  readonly row?: number;
  readonly column?: string;
  readonly value?: string;
}

/** A user-level failure: bad usage (UsageError, exit 2) or bad data (DataError, exit 1); `exitCode` says which. */
export abstract class LossevalError extends Error {
  abstract readonly exitCode: 1 | 2;
}

/** Bad invocation: unknown option, loss or column, bad option value, missing file. Exit 2. */
export class UsageError extends LossevalError {
  readonly exitCode = 2 as const;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Bad data or a failed run. Exit 1. The message is prefixed with the location. */
export class DataError extends LossevalError {
  readonly exitCode = 1 as const;
  readonly detail: string;
  readonly at: DataLocation | undefined;
  constructor(detail: string, at?: DataLocation) {
    super(at ? `${formatLocation(at)}: ${detail}` : detail);
    this.name = 'DataError';
    this.detail = detail;
    this.at = at;
  }
}

/** `preds.csv: line 5, column "p"` — the value is part of the detail text, not the location. */
export function formatLocation(at: DataLocation): string {
  const parts: string[] = [];
  if (at.line !== undefined) parts.push(`line ${at.line}`);
  else if (at.row !== undefined) parts.push(`row ${at.row}`);
  if (at.column !== undefined) parts.push(`column ${JSON.stringify(at.column)}`);
  return parts.length ? `${at.file}: ${parts.join(', ')}` : at.file;
}

/** Quote a value as written, shortened for one-line messages. */
export function quoteValue(text: string): string {
  const short = text.length > 60 ? text.slice(0, 57) + '…' : text;
  return JSON.stringify(short);
}

/**
 * Messages are one line: control characters that came from the data (a column
 * name with a newline, say) are shown escaped.
 */
export function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

/**
 * The error as stderr shows it: one `losseval: error: …` line, or with `json` one JSON object
 * `{"error": {"kind", "message", "file", "line", "row", "column", "value"}}` on one line (kind
 * "usage", "data" or "internal"; the location fields only when known: see errorJson).
 */
export function formatError(err: unknown, json = false): { text: string; exitCode: 1 | 2; bug: boolean } {
  if (json) {
    const exitCode = err instanceof LossevalError ? err.exitCode : 1;
    return { text: JSON.stringify({ error: errorJson(err) }), exitCode, bug: !(err instanceof LossevalError) };
  }
  if (err instanceof LossevalError) {
    return { text: `losseval: error: ${oneLine(err.message)}`, exitCode: err.exitCode, bug: false };
  }
  return { text: `losseval: internal error (please report): ${stackOf(err)}`, exitCode: 1, bug: true };
}

function stackOf(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

/** What `--json` reports of an error. Fields whose value is unknown are left out, never null. */
export interface ErrorJson {
  readonly kind: 'usage' | 'data' | 'internal';
  /** the text the plain `losseval: error:` line shows (location included) */
  readonly message: string;
  readonly file?: string;
  /** CSV: 1-based physical line (the header is line 1) */
  readonly line?: number;
  /** Arrow: 1-based row */
  readonly row?: number;
  readonly column?: string;
  /** the offending value as written */
  readonly value?: string;
}

export function errorJson(err: unknown): ErrorJson {
  if (err instanceof UsageError) return { kind: 'usage', message: err.message };
  if (err instanceof DataError) {
    const at = err.at;
    return {
      kind: 'data', message: err.message,
      ...(at ? { file: at.file } : {}),
      ...(at?.line !== undefined ? { line: at.line } : {}),
      ...(at?.row !== undefined ? { row: at.row } : {}),
      ...(at?.column !== undefined ? { column: at.column } : {}),
      ...(at?.value !== undefined ? { value: at.value } : {}),
    };
  }
  return { kind: 'internal', message: `internal error (please report): ${stackOf(err)}` };
}
