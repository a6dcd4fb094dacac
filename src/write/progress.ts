/**
 * Progress: a run reports `onProgress({ bytesRead, totalBytes, rows })` as chunks complete (the
 * callback type the library's evaluate() exposes too), and the CLI's progress line on stderr
 * consumes it: on a terminal (or with --progress) a bar with the percentage and an ETA from the
 * bytes read over the input size, or rows/s when the size is unknown (stdin); redrawn at most
 * 10 times a second on one line (the first time 0.1 s after the start); it always ends on the
 * final count (kept, with a newline), or is erased when the run fails.
 */
import type { Table } from '../read/table.js';

/** What a run has done so far. */
export interface ProgressInfo {
  /** Input bytes read so far, over all inputs (compressed bytes for gzip). */
  readonly bytesRead: number;
  /** The inputs' total size on disk, or null when one of them has no known size (stdin, a pipe). */
  readonly totalBytes: number | null;
  /** Data rows done (including rows left out by --nan-policy omit). */
  readonly rows: number;
}

export type OnProgress = (p: ProgressInfo) => void;

/** The progress of a run over `tables`, `rows` rows done. */
export function progressOf(tables: readonly Table[], rows: number): ProgressInfo {
  let bytesRead = 0, total = 0, sized = true;
  for (const t of tables) {
    bytesRead += t.source.bytesRead();
    if (t.source.size === null) sized = false;
    else total += t.source.size;
  }
  return { bytesRead, totalBytes: sized ? total : null, rows };
}

/** Redraws at most this often (ms). */
export const PROGRESS_INTERVAL_MS = 100;

function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function duration(secs: number): string {
  if (secs < 60) return `${secs < 10 ? secs.toFixed(1) : Math.round(secs)} s`;
  const m = Math.floor(secs / 60), s = Math.round(secs % 60);
  return m < 60 ? `${m} min ${s} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/**
 * The progress line for `p` after `elapsedMs`, at most `columns - 1` characters (no control
 * characters). `final`: the run is done (100%, the time taken instead of an ETA).
 */
export function renderProgress(p: ProgressInfo, elapsedMs: number, columns = 80, final = false): string {
  const secs = elapsedMs / 1000;
  const rows = `${count(p.rows)} rows`;
  let text: string;
  if (p.totalBytes !== null && p.totalBytes > 0) {
    const frac = final ? 1 : Math.min(1, p.bytesRead / p.totalBytes);
    const pct = `${Math.floor(frac * 100)}%`.padStart(4);
    let tail: string;
    if (final) tail = `in ${duration(secs)}`;
    else if (p.bytesRead > 0 && secs > 0) tail = `ETA ${duration((secs * (p.totalBytes - p.bytesRead)) / p.bytesRead)}`;
    else tail = 'ETA -';
    const rest = ` ${pct}  ${rows}  ${tail}`;
    const width = Math.max(10, Math.min(40, columns - 1 - rest.length - 2));
    const filled = Math.round(frac * width);
    text = `[${'='.repeat(filled)}${filled < width ? '>' : ''}${' '.repeat(Math.max(0, width - filled - 1))}]${rest}`;
  } else {
    text = final ? `${rows} in ${duration(secs)}` : `${rows}  ${secs > 0 ? count(p.rows / secs) : 0} rows/s`;
  }
  return text.length > columns - 1 ? text.slice(0, Math.max(0, columns - 1)) : text;
}

/** The progress line on a stream (stderr): throttled redraws of renderProgress. */
export class ProgressLine {
  private readonly start: number;
  private last: number;
  private shown = false;

  constructor(
    private readonly err: NodeJS.WritableStream & { columns?: number },
    private readonly now: () => number = Date.now,
  ) {
    this.start = now();
    this.last = this.start;
  }

  private draw(p: ProgressInfo, final: boolean): void {
    const t = this.now();
    // a terminal of unknown width (columns 0, as under script(1)) is taken as 80 wide
    const cols = this.err.columns !== undefined && this.err.columns >= 20 ? this.err.columns : 80;
    this.err.write(`\r\x1b[K${renderProgress(p, t - this.start, cols, final)}`);
    this.shown = true;
    this.last = t;
  }

  /** The callback: redraw if the last redraw is at least PROGRESS_INTERVAL_MS ago. */
  readonly update: OnProgress = (p) => {
    if (this.now() - this.last >= PROGRESS_INTERVAL_MS) this.draw(p, false);
  };

  /** The run is done: draw the final count and end the line; or (`p` null: the run failed) erase what was drawn. */
  finish(p: ProgressInfo | null): void {
    if (p !== null) {
      this.draw(p, true);
      this.err.write('\n');
    } else if (this.shown) {
      this.err.write('\r\x1b[K');
    }
    this.shown = false;
  }
}
