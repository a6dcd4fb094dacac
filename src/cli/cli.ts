/**
 * The whole command, given its arguments and streams: parse, run or merge, print
 * the result, warnings and errors, and return the exit status. Process-level
 * concerns (argv, signals, a closed stdout, the exit code) live in main.ts; the
 * tests call this in-process with in-memory streams. With --json every stderr
 * line is a JSON object: `{"warning": {"message"}}`, and on failure one
 * `{"error": {…}}` (errors.ts).
 */
import { formatError, oneLine, UsageError } from '../errors.js';
import { parseCommandLine } from './program.js';
import { run, runWarnings, summaryState, type RunIO } from '../run.js';
import { formatResult, resultJson } from '../write/result.js';
import { writeGroupsFile } from '../write/groups.js';
import { mergeStates, readStateFile, repeatedProvenance, writeStateFile } from '../reduce/state.js';

/** --json anywhere before a `--` (known before the command line is parsed, for its own errors too). */
function jsonStderr(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).includes('--json');
}

function warn(io: RunIO, json: boolean, message: string): void {
  io.stderr.write(json ? JSON.stringify({ warning: { message } }) + '\n' : `losseval: warning: ${oneLine(message)}\n`);
}

async function merge(
  io: RunIO, files: string[], json: boolean, stateOut: string | null, ci: number | null, independent: boolean,
): Promise<number> {
  const states = [];
  for (const f of files) states.push(await readStateFile(f));
  let merged = mergeStates(states, files, { independent });
  if (ci !== null) {
    if (!merged.config.bootstrap) throw new UsageError('merge --ci: the states hold no bootstrap replicates');
    merged = { ...merged, ci };
  }
  for (const p of repeatedProvenance(merged)) {
    const what = p.inputs.map((i) => i.file).join(' + ');
    warn(io, json, `the same shard (${what}, ${p.rows} rows) is merged more than once`);
  }
  if (stateOut !== null) await writeStateFile(stateOut, merged);
  io.stdout.write(formatResult(merged, json, { aligned: io.stdoutIsTTY === true }));
  return 0;
}

async function command(args: readonly string[], io: RunIO): Promise<number> {
  const cmd = parseCommandLine([...args], io.stderrIsTTY, (s) => io.stdout.write(s));
  if (cmd.kind === 'exit') return cmd.code;
  if (cmd.kind === 'merge') return merge(io, cmd.states, cmd.json, cmd.stateOut, cmd.ci, cmd.independent);
  const json = jsonStderr(args);
  for (const w of cmd.warnings) warn(io, json, w);
  const { config } = cmd;
  const summary = await run(config, io);
  for (const w of runWarnings(config, summary)) warn(io, json, w);
  const state = summaryState(config, summary);
  if (config.reduction === 'none') {
    if (config.json) io.stdout.write(JSON.stringify(resultJson(state, false)) + '\n');
    return 0;
  }
  if (config.stateOut !== null) await writeStateFile(config.stateOut, state);
  // grouped with -o: the group table goes to the file, the overall result to stdout
  if (config.output !== null && state.groups) await writeGroupsFile(config.output, state);
  io.stdout.write(formatResult(state, config.json, { aligned: io.stdoutIsTTY === true, overallOnly: config.output !== null }));
  return 0;
}

/** Run `losseval ARGS`; user errors print one `losseval: error:` line (exit 1 or 2), a bug its stack (exit 1). */
export async function runCli(args: readonly string[], io: RunIO): Promise<number> {
  try {
    return await command(args, io);
  } catch (e) {
    const f = formatError(e, jsonStderr(args));
    io.stderr.write(f.text + '\n');
    return f.exitCode;
  }
}
