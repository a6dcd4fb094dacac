/** Progress goes to stderr only (rows, MB/s, ETA for files), and never touches stdout. */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { BIN, SAMPLES, losseval } from '../helpers/cli.js';

describe('progress', () => {
  it('--progress on a slow input draws rows and MB/s on stderr and erases itself', async () => {
    const child = spawn(process.execPath, [BIN, '-l', 'l1', '--progress', '--chunk-rows', '10', '-', join(SAMPLES, 'targets.csv')], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (b: Buffer) => (out += b));
    child.stderr.on('data', (b: Buffer) => (err += b));
    const lines = readFileSync(join(SAMPLES, 'preds.csv'), 'utf8').split('\n');
    // feed the rows over ~1.2 s so the progress line is drawn at least once
    for (let i = 0; i < lines.length; i += 100) {
      child.stdin.write(lines.slice(i, i + 100).join('\n') + (i + 100 < lines.length ? '\n' : ''));
      await new Promise((r) => setTimeout(r, 120));
    }
    child.stdin.end();
    const code = await new Promise((r) => child.on('close', r));
    expect(code).toBe(0);
    expect(out).toBe((await losseval(['-l', 'l1', join(SAMPLES, 'preds.csv'), join(SAMPLES, 'targets.csv')])).stdout);
    expect(err).toMatch(/\r\x1b\[K[\d,]+ rows {2}[\d.]+ MB\/s/);
    expect(err.endsWith('\r\x1b[K')).toBe(true);
  });
  it('no progress when stderr is not a terminal, or with --no-progress', async () => {
    const files = [join(SAMPLES, 'preds.csv'), join(SAMPLES, 'targets.csv')];
    expect((await losseval(['-l', 'l1', '--chunk-rows', '10', ...files])).stderr).toBe('');
    expect((await losseval(['-l', 'l1', '--no-progress', '--chunk-rows', '10', ...files])).stderr).toBe('');
  });
});
