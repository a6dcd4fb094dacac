/**
 * Progress goes to stderr only and never touches stdout: on a terminal (a pseudo-terminal from
 * script(1) here) a bar with percentage and ETA for files, rows/s for stdin, ending on the final
 * count; with --progress on a pipe the same line; nothing on a pipe otherwise.
 */
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { BIN, SAMPLES, losseval, workdir } from '../helpers/cli.js';

const hasScript = spawnSync('script', ['--version']).status === 0;

describe('progress', () => {
  it('--progress on a slow stdin: rows and rows/s on stderr, ending on the final count', async () => {
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
    const rows = lines.filter((l) => l !== '').length - 1;
    expect(err).toMatch(/\r\x1b\[K[\d,]+ rows {2}[\d,]+ rows\/s/);
    expect(err).toMatch(new RegExp(`\\r\\x1b\\[K${rows.toLocaleString('en-US')} rows in [\\d.]+ s\\n$`));
  });
  it('no progress when stderr is not a terminal, or with --no-progress', async () => {
    const files = [join(SAMPLES, 'preds.csv'), join(SAMPLES, 'targets.csv')];
    expect((await losseval(['-l', 'l1', '--chunk-rows', '10', ...files])).stderr).toBe('');
    expect((await losseval(['-l', 'l1', '--no-progress', '--chunk-rows', '10', ...files])).stderr).toBe('');
  });
  it.skipIf(!hasScript)('on a terminal: the bar ends on 100% and the final count, the result unchanged', () => {
    // (the bar's intermediate states are tested as a pure function: test/unit/progress.test.ts)
    const dir = workdir();
    const rows = 50_000;
    const body = Array.from({ length: rows }, (_, i) => `${(i % 1000) / 7},${(i % 37) / 3}`).join('\n');
    writeFileSync(join(dir, 'big.csv'), 'p,t\n' + body + '\n');
    const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} -l l1 -j 2 --target-cols t ${JSON.stringify(join(dir, 'big.csv'))}`;
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    // the pty turns '\n' into '\r\n'
    const tty = r.stdout.replace(/\r\n/g, '\n');
    expect(tty).toMatch(new RegExp(`\\r\\x1b\\[K\\[={40}\\] 100%  ${rows.toLocaleString('en-US')} rows  in [\\d.]+ s\\n`));
    // the result itself, after the progress line
    expect(tty.trimEnd().split('\n').pop()).toBe(spawnSync(process.execPath, [BIN, '-l', 'l1', '--target-cols', 't', join(dir, 'big.csv')], { encoding: 'utf8' }).stdout.trimEnd());
  });
});
