/** The progress line as a pure function of the run's state, and its throttling, with a fake clock. */
import { describe, expect, it } from 'vitest';
import { renderProgress, ProgressLine, PROGRESS_INTERVAL_MS } from '../../src/write/progress.js';

describe('renderProgress', () => {
  it('a known size: a bar, the percentage of bytes read, rows and an ETA from the rate so far', () => {
    expect(renderProgress({ bytesRead: 25, totalBytes: 100, rows: 1234567 }, 3000, 80))
      .toBe('[==========>                             ]  25%  1,234,567 rows  ETA 9.0 s');
    expect(renderProgress({ bytesRead: 0, totalBytes: 100, rows: 0 }, 0, 80))
      .toBe('[>                                       ]   0%  0 rows  ETA -');
    expect(renderProgress({ bytesRead: 50, totalBytes: 100, rows: 10 }, 200_000, 80))
      .toBe('[====================>                   ]  50%  10 rows  ETA 3 min 20 s');
  });
  it('the final state: 100% and the time taken, whatever the bytes counted', () => {
    expect(renderProgress({ bytesRead: 90, totalBytes: 100, rows: 1000 }, 12_400, 80, true))
      .toBe('[========================================] 100%  1,000 rows  in 12 s');
  });
  it('an unknown size (stdin): rows and rows/s; at the end the count and the time', () => {
    expect(renderProgress({ bytesRead: 5e6, totalBytes: null, rows: 300000 }, 2000, 80)).toBe('300,000 rows  150,000 rows/s');
    expect(renderProgress({ bytesRead: 5e6, totalBytes: null, rows: 300000 }, 2000, 80, true)).toBe('300,000 rows in 2.0 s');
  });
  it('fits the terminal: the bar narrows, and the line never reaches the last column', () => {
    const line = renderProgress({ bytesRead: 1, totalBytes: 2, rows: 5 }, 1000, 40);
    expect(line).toBe('[=======>     ]  50%  5 rows  ETA 1.0 s');
    expect(line.length).toBe(39);
    expect(renderProgress({ bytesRead: 1, totalBytes: 2, rows: 5 }, 1000, 20).length).toBeLessThanOrEqual(19);
  });
});

describe('ProgressLine', () => {
  const setup = () => {
    let t = 1000;
    const out: string[] = [];
    const err = { write: (s: string) => out.push(s), columns: 60 } as unknown as NodeJS.WritableStream;
    const line = new ProgressLine(err, () => t);
    return { line, out, tick: (ms: number) => (t += ms) };
  };
  it('redraws at most every 100 ms, the first time 100 ms after the start, and ends on the final count', () => {
    const { line, out, tick } = setup();
    expect(PROGRESS_INTERVAL_MS).toBe(100);
    line.update({ bytesRead: 1, totalBytes: null, rows: 1 });
    expect(out).toEqual([]);
    tick(100);
    line.update({ bytesRead: 1, totalBytes: null, rows: 10 });
    tick(50);
    line.update({ bytesRead: 1, totalBytes: null, rows: 20 });
    tick(50);
    line.update({ bytesRead: 1, totalBytes: null, rows: 30 });
    line.finish({ bytesRead: 1, totalBytes: null, rows: 40 });
    expect(out).toEqual(['\r\x1b[K10 rows  100 rows/s', '\r\x1b[K30 rows  150 rows/s', '\r\x1b[K40 rows in 0.2 s', '\n']);
  });
  it('a failed run erases the line; a quick run shows only the final count', () => {
    const a = setup();
    a.tick(100);
    a.line.update({ bytesRead: 1, totalBytes: 4, rows: 1 });
    a.line.finish(null);
    expect(a.out.slice(-1)).toEqual(['\r\x1b[K']);
    const b = setup();
    b.line.update({ bytesRead: 1, totalBytes: 4, rows: 1 });
    expect(b.out).toEqual([]);
    b.line.finish({ bytesRead: 4, totalBytes: 4, rows: 2 });
    expect(b.out).toEqual([`\r\x1b[K[${'='.repeat(34)}] 100%  2 rows  in 0.0 s`, '\n']);
    // failing before anything was drawn leaves nothing to erase
    const c = setup();
    c.line.finish(null);
    expect(c.out).toEqual([]);
  });
});
