/**
 * Progress on stderr (when it is a TTY, or with --progress): rows done,
 * MB/s read, and an ETA when the input sizes are known. Redrawn at most four
 * times a second on one line, erased at the end.
 */
import type { Table } from '../read/table.js';

export class Progress {
  private readonly start = Date.now();
  private last = 0;
  private shown = false;

  constructor(
    private readonly err: NodeJS.WritableStream,
    private readonly tables: readonly Table[],
  ) {}

  update(rows: number): void {
    const now = Date.now();
    if (now - this.last < 250) return;
    this.last = now;
    const secs = (now - this.start) / 1000;
    let read = 0, total = 0, sized = true;
    for (const t of this.tables) {
      read += t.source.bytesRead();
      if (t.source.size === null) sized = false;
      else total += t.source.size;
    }
    const mbs = secs > 0 ? read / 1e6 / secs : 0;
    let eta = '';
    if (sized && total > 0 && read > 0 && read < total) {
      eta = `  ETA ${Math.ceil(((total - read) / read) * secs)} s`;
    }
    this.err.write(`\r\x1b[K${rows.toLocaleString('en-US')} rows  ${mbs.toFixed(1)} MB/s${eta}`);
    this.shown = true;
  }

  done(): void {
    if (this.shown) this.err.write('\r\x1b[K');
    this.shown = false;
  }
}
