/** Run the built CLI (bin/losseval.js) as a user would, capturing stdout, stderr and the exit code. */
import { spawn } from 'node:child_process';
import { expect } from 'vitest';
import { fileURLToPath } from 'node:url';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(ROOT, 'bin', 'losseval.js');
export const SAMPLES = join(ROOT, 'samples');

export interface CliResult {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CliOptions {
  stdin?: Buffer | string;
  cwd?: string;
  /** added to the environment (the LOSSEVAL_TEST_* hooks) */
  env?: Record<string, string>;
}

export function losseval(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? ROOT, stdio: ['pipe', 'pipe', 'pipe'], ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}),
    });
    const out: Buffer[] = [], err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), code, signal }));
    child.stdin.on('error', () => undefined);
    if (opts.stdin !== undefined) child.stdin.end(opts.stdin);
    else child.stdin.end();
  });
}

/** A fresh temporary directory for one test file. */
export function workdir(prefix = 'losseval-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * The error contract: exit `code`, nothing on stdout, exactly one stderr line
 * starting `losseval: error:` that matches `message`, and no stack trace.
 */
export async function expectFailure(
  args: string[], code: 1 | 2, message: RegExp, opts: CliOptions = {},
): Promise<void> {
  const r = await losseval(args, opts);
  expect(r.stdout).toBe('');
  expect(r.code).toBe(code);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^losseval: error: /);
  expect(lines[0]).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}
