/**
 * Column selection: `--pred-cols a,b`, globs (`logit_*`), or 0-based indices
 * with --no-header. Pure functions, resolved before any row is read.
 */
import { UsageError } from '../errors.js';

export interface ColumnInfo {
  /** Header name, or null without a header. */
  readonly name: string | null;
  /** Values per row: 1, or a list column's length (null: a variable List, known per chunk). */
  readonly width: number | null;
}

function globToRegExp(glob: string): RegExp {
  const esc = glob.replace(/[.+^${}()|[\]\\?]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${esc}$`);
}

function listColumns(cols: readonly ColumnInfo[]): string {
  const names = cols.map((c, i) => c.name ?? String(i));
  const shown = names.slice(0, 12).join(', ');
  return names.length > 12 ? `${shown}, … (${names.length} in all)` : shown;
}

/**
 * Resolve a comma-separated selection to column indices, in the order given
 * (a glob expands in file order). `option` and `file` name the source in errors.
 */
export function selectColumns(
  list: string,
  cols: readonly ColumnInfo[],
  option: string,
  file: string,
): number[] {
  const out: number[] = [];
  const hasHeader = cols.length > 0 && cols[0]!.name !== null;
  for (const raw of list.split(',')) {
    const item = raw.trim();
    if (item === '') throw new UsageError(`${option}: empty column name in '${list}'`);
    if (!hasHeader) {
      if (!/^\d+$/.test(item)) {
        throw new UsageError(`${option}: '${item}' is not a column index (${file} has no header: use 0-based indices)`);
      }
      const i = Number(item);
      if (i >= cols.length) {
        throw new UsageError(`${option}: column index ${i} is out of range (${file} has ${cols.length} columns)`);
      }
      out.push(i);
      continue;
    }
    if (item.includes('*')) {
      const re = globToRegExp(item);
      const hits = cols.flatMap((c, i) => (re.test(c.name!) ? [i] : []));
      if (hits.length === 0) {
        throw new UsageError(`${option}: no column of ${file} matches '${item}' (columns: ${listColumns(cols)})`);
      }
      out.push(...hits);
      continue;
    }
    // `p, y` headers: a name matches with or without its surrounding spaces
    let i = cols.findIndex((c) => c.name === item);
    if (i < 0) i = cols.findIndex((c) => c.name !== null && c.name.trim() === item);
    if (i < 0) throw new UsageError(`${option}: unknown column '${item}' in ${file} (columns: ${listColumns(cols)})`);
    out.push(i);
  }
  return out;
}

/** Every column not in `taken`, in file order. */
export function remainingColumns(cols: readonly ColumnInfo[], taken: Iterable<number>): number[] {
  const t = new Set(taken);
  return cols.flatMap((_, i) => (t.has(i) ? [] : [i]));
}
