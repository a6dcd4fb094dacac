/**
 * `npm run test:full` only (not `npm test`): the 256 MiB row cap with no switch. A row one byte
 * longer than 256 MiB arrives on stdin from a generator that holds 1 MiB at a time; losseval must
 * refuse it naming its line. It costs 6-30 s and ~500 MB of RSS on a 2-core machine (losseval keeps
 * the row until it passes the cap), too much for the default suite; `--max-row-bytes` covers the
 * same code with a small cap there (test/e2e/errors.test.ts).
 */
import { expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { BIN, ROOT } from '../helpers/cli.js';

it('a row longer than 256 MiB on stdin is refused, naming its line (exit 1, one line, nothing on stdout)', async () => {
  const child = spawn(process.execPath, [BIN, '-l', 'l1', '--target-cols', 't', '-'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b));
  child.stderr.on('data', (b: Buffer) => (stderr += b));
  const closed = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  child.stdin.on('error', () => undefined); // losseval may stop reading once the row is too long
  const piece = Buffer.alloc(2 ** 20, '2');
  // a write resolves when the pipe drains, or when it is gone (losseval stopped reading and exited)
  const write = (b: Buffer | string): Promise<void> => new Promise((r) => {
    if (child.stdin.destroyed || child.stdin.write(b)) return r();
    const done = (): void => {
      child.stdin.off('drain', done).off('error', done).off('close', done);
      r();
    };
    child.stdin.on('drain', done).on('error', done).on('close', done);
  });
  await write('p,t\n1,2\n3,');
  for (let i = 0; i <= 256 && child.exitCode === null && !child.stdin.destroyed; i++) await write(piece);
  if (!child.stdin.destroyed) child.stdin.end(',4\n');
  expect(await closed).toBe(1);
  expect(stdout).toBe('');
  expect(stderr).toBe('losseval: error: <stdin>: row at line 3 is longer than 268435456 bytes\n');
}, 600_000);
