// A long-lived child process that runs fuzz cases in-process, the way src/cli/main.ts does
// (parse the command line, run, print the result or one error line), and reports each outcome
// to its parent over IPC. The parent kills and restarts it on a hang, and treats its death as a
// crash. Memory: the process's peak RSS (worker threads included) after each case.
import { createReadStream } from 'node:fs';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

const root = process.argv[2];
const dist = (p) => import(pathToFileURL(join(root, 'dist', p)).href);
const { parseCommandLine } = await dist('cli/program.js');
const { run, summaryState } = await dist('run.js');
const { formatResult } = await dist('write/result.js');
const { formatError } = await dist('errors.js');
const { writeStateFile } = await dist('reduce/state.js');

async function runCase(msg) {
  let stdout = '';
  let stderr = '';
  const out = new PassThrough();
  out.on('data', (b) => { stdout += b.toString(); });
  const err = new PassThrough();
  err.on('data', (b) => { stderr += b.toString(); });
  const stdin = msg.stdin ? createReadStream(msg.stdin) : new PassThrough().end();
  let code;
  try {
    const cmd = parseCommandLine(msg.args, false, (s) => { stdout += s; });
    if (cmd.kind !== 'run') throw new Error(`fuzz runner: unexpected command kind ${cmd.kind}`);
    for (const w of cmd.warnings) stderr += `losseval: warning: ${w}\n`;
    const { config } = cmd;
    const summary = await run(config, { stdin, stdout: out, stderr: err, stderrIsTTY: false });
    if (summary.nanValues > 0) stderr += 'losseval: warning: NaN values\n';
    const state = summaryState(config, summary);
    if (config.stateOut !== null) await writeStateFile(config.stateOut, state);
    if (config.reduction !== 'none') stdout += formatResult(state, config.json);
    code = 0;
  } catch (e) {
    const f = formatError(e);
    stderr += f.text + '\n';
    code = f.exitCode;
  }
  if (msg.stdin) stdin.destroy();
  // let stream callbacks flush
  await new Promise((r) => setImmediate(r));
  return { id: msg.id, code, stdout, stderr, maxRSS: process.resourceUsage().maxRSS * 1024 };
}

process.on('message', (msg) => {
  runCase(msg).then(
    (r) => process.send(r),
    (e) => process.send({ id: msg.id, code: -1, stdout: '', stderr: `runner failure: ${e?.stack ?? e}`, maxRSS: 0 }),
  );
});
process.send({ ready: true });
