/** Run the built CLI (bin/losseval.js) as a user would, capturing stdout, stderr and the exit code. */
import { spawn } from 'node:child_process';
import { expect } from 'vitest';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Readable, Writable } from 'node:stream';
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
  /** added to the environment of a spawned process (implies `spawn`) */
  env?: Record<string, string>;
  /** run bin/losseval.js in a child process (the process-level contract: exit code, signals, EPIPE) */
  spawn?: boolean;
}

/**
 * `losseval ARGS`: in this process through runCli (dist/cli/cli.js: everything main.ts does but
 * signals, a closed stdout and setting the exit code), or spawned with `spawn` / `env`.
 */
export function losseval(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return opts.spawn || opts.env ? spawned(args, opts) : inProcess(args, opts);
}

class Collect extends Writable {
  readonly parts: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.parts.push(Buffer.from(chunk));
    done();
  }
  text(): string {
    return Buffer.concat(this.parts).toString();
  }
}

let cliModule: Promise<{ runCli: (args: readonly string[], io: unknown) => Promise<number> }> | null = null;

async function inProcess(args: string[], opts: CliOptions): Promise<CliResult> {
  cliModule ??= import(pathToFileURL(join(ROOT, 'dist', 'cli', 'cli.js')).href);
  const { runCli } = await cliModule;
  const stdout = new Collect(), stderr = new Collect();
  // stdin arrives as a pipe delivers it: in 64 KiB pieces
  const bytes = opts.stdin !== undefined ? Buffer.from(opts.stdin) : Buffer.alloc(0);
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 65536) pieces.push(bytes.subarray(i, i + 65536));
  const stdin = Readable.from(pieces);
  const before = process.cwd();
  if (opts.cwd) process.chdir(opts.cwd);
  try {
    const code = await runCli(args, { stdin, stdout, stderr, stderrIsTTY: false });
    return { stdout: stdout.text(), stderr: stderr.text(), code, signal: null };
  } finally {
    process.chdir(before);
  }
}

function spawned(args: string[], opts: CliOptions): Promise<CliResult> {
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
