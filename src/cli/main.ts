/**
 * The only place that reads process.argv, writes stderr and sets the exit
 * code. User errors print one `losseval: error:` line (exit 1 or 2); anything
 * else is a bug and prints its stack.
 */
import { formatError, oneLine } from '../errors.js';
import { removeTempFilesNow } from '../cleanup.js';
import { parseCommandLine } from './program.js';
import { run, runWarnings, summaryState } from '../run.js';
import { formatResult, resultJson } from '../write/result.js';
import { mergeStates, readStateFile, repeatedProvenance, writeStateFile } from '../reduce/state.js';

async function merge(files: string[], json: boolean, stateOut: string | null): Promise<number> {
  const states = [];
  for (const f of files) states.push(await readStateFile(f));
  const merged = mergeStates(states, files);
  for (const p of repeatedProvenance(merged)) {
    const what = p.inputs.map((i) => i.file).join(' + ');
    process.stderr.write(`losseval: warning: ${oneLine(`the same shard (${what}, ${p.rows} rows) is merged more than once`)}\n`);
  }
  if (stateOut !== null) await writeStateFile(stateOut, merged);
  process.stdout.write(formatResult(merged, json));
  return 0;
}

async function main(): Promise<number> {
  const stderrIsTTY = process.stderr.isTTY === true;
  const cmd = parseCommandLine(process.argv.slice(2), stderrIsTTY, (s) => process.stdout.write(s));
  if (cmd.kind === 'exit') return cmd.code;
  if (cmd.kind === 'merge') return merge(cmd.states, cmd.json, cmd.stateOut);
  for (const w of cmd.warnings) process.stderr.write(`losseval: warning: ${oneLine(w)}\n`);
  const { config } = cmd;
  const summary = await run(config, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, stderrIsTTY });
  for (const w of runWarnings(config, summary)) process.stderr.write(`losseval: warning: ${w}\n`);
  const state = summaryState(config, summary);
  if (config.reduction === 'none') {
    if (config.json) process.stdout.write(JSON.stringify(resultJson(state, false)) + '\n');
    return 0;
  }
  if (config.stateOut !== null) await writeStateFile(config.stateOut, state);
  process.stdout.write(formatResult(state, config.json));
  return 0;
}

// Interrupted: remove temporary output and exit 128 + signal number, as shells expect.
for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.on(sig, () => {
    removeTempFilesNow();
    process.exit(code);
  });
}

// A closed stdout (`losseval … | head`) ends the run quietly.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    const f = formatError(e);
    process.stderr.write(f.text + '\n');
    process.exitCode = f.exitCode;
  },
);
