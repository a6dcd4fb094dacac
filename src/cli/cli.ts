/**
 * The whole command, given its arguments and streams: parse, run or merge, print
 * the result, warnings and errors, and return the exit status. Process-level
 * concerns (argv, signals, a closed stdout, the exit code) live in main.ts; the
 * tests call this in-process with in-memory streams.
 */
import { formatError, oneLine } from '../errors.js';
import { parseCommandLine } from './program.js';
import { run, runWarnings, summaryState, type RunIO } from '../run.js';
import { formatResult, resultJson } from '../write/result.js';
import { mergeStates, readStateFile, repeatedProvenance, writeStateFile } from '../reduce/state.js';

async function merge(io: RunIO, files: string[], json: boolean, stateOut: string | null): Promise<number> {
  const states = [];
  for (const f of files) states.push(await readStateFile(f));
  const merged = mergeStates(states, files);
  for (const p of repeatedProvenance(merged)) {
    const what = p.inputs.map((i) => i.file).join(' + ');
    io.stderr.write(`losseval: warning: ${oneLine(`the same shard (${what}, ${p.rows} rows) is merged more than once`)}\n`);
  }
  if (stateOut !== null) await writeStateFile(stateOut, merged);
  io.stdout.write(formatResult(merged, json));
  return 0;
}

async function command(args: readonly string[], io: RunIO): Promise<number> {
  const cmd = parseCommandLine([...args], io.stderrIsTTY, (s) => io.stdout.write(s));
  if (cmd.kind === 'exit') return cmd.code;
  if (cmd.kind === 'merge') return merge(io, cmd.states, cmd.json, cmd.stateOut);
  for (const w of cmd.warnings) io.stderr.write(`losseval: warning: ${oneLine(w)}\n`);
  const { config } = cmd;
  const summary = await run(config, io);
  for (const w of runWarnings(config, summary)) io.stderr.write(`losseval: warning: ${w}\n`);
  const state = summaryState(config, summary);
  if (config.reduction === 'none') {
    if (config.json) io.stdout.write(JSON.stringify(resultJson(state, false)) + '\n');
    return 0;
  }
  if (config.stateOut !== null) await writeStateFile(config.stateOut, state);
  io.stdout.write(formatResult(state, config.json));
  return 0;
}

/** Run `losseval ARGS`; user errors print one `losseval: error:` line (exit 1 or 2), a bug its stack (exit 1). */
export async function runCli(args: readonly string[], io: RunIO): Promise<number> {
  try {
    return await command(args, io);
  } catch (e) {
    const f = formatError(e);
    io.stderr.write(f.text + '\n');
    return f.exitCode;
  }
}
