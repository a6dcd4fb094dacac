/**
 * Run a losseval command line in this process, as src/cli/main.ts does, through the built
 * dist/ (so the worker pool has its worker file): parse, run, print the result or one error
 * line. Much cheaper than spawning the CLI, for tests of the computation.
 */
import { PassThrough, Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { ROOT } from './cli.js';

export interface InProcResult {
  code: number;
  stdout: string;
  stderr: string;
}

const dist = (p: string): Promise<Record<string, unknown>> => import(pathToFileURL(join(ROOT, 'dist', p)).href);

export async function runInProcess(args: string[], stdin?: Buffer): Promise<InProcResult> {
  const { parseCommandLine } = (await dist('cli/program.js')) as { parseCommandLine: (a: string[], tty: boolean, out: (s: string) => void) => { kind: string; warnings: string[]; config: { reduction: string; json: boolean } } };
  const { run, summaryState } = (await dist('run.js')) as { run: (c: unknown, io: unknown) => Promise<{ nanValues: number }>; summaryState: (c: unknown, s: unknown) => unknown };
  const { formatResult } = (await dist('write/result.js')) as { formatResult: (s: unknown, json: boolean) => string };
  const { formatError } = (await dist('errors.js')) as { formatError: (e: unknown) => { text: string; exitCode: number } };
  let stdout = '';
  let stderr = '';
  const out = new PassThrough();
  out.on('data', (b: Buffer) => { stdout += b.toString(); });
  const err = new PassThrough();
  err.on('data', (b: Buffer) => { stderr += b.toString(); });
  const input = stdin ? Readable.from([stdin]) : new PassThrough().end();
  let code: number;
  try {
    const cmd = parseCommandLine(args, false, (s) => { stdout += s; });
    if (cmd.kind !== 'run') throw new Error(`unexpected command kind ${cmd.kind}`);
    for (const w of cmd.warnings) stderr += `losseval: warning: ${w}\n`;
    const summary = await run(cmd.config, { stdin: input, stdout: out, stderr: err, stderrIsTTY: false });
    if (cmd.config.reduction !== 'none') stdout += formatResult(summaryState(cmd.config, summary), cmd.config.json);
    code = 0;
  } catch (e) {
    const f = formatError(e);
    stderr += f.text + '\n';
    code = f.exitCode;
  }
  await new Promise((r) => setImmediate(r));
  return { code, stdout, stderr };
}
