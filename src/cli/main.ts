/**
 * The only place that reads process.argv, writes stderr and sets the exit
 * code. User errors print one `losseval: error:` line (exit 1 or 2); anything
 * else is a bug and prints its stack.
 */
import { formatError } from '../errors.js';
import { parseCommandLine } from './program.js';
import { run } from '../run.js';
import { formatResult } from '../write/result.js';

async function main(): Promise<number> {
  const stderrIsTTY = process.stderr.isTTY === true;
  const cmd = parseCommandLine(process.argv.slice(2), stderrIsTTY, (s) => process.stdout.write(s));
  if (cmd.kind === 'exit') return cmd.code;
  for (const w of cmd.warnings) process.stderr.write(`losseval: warning: ${w}\n`);
  const { config } = cmd;
  const summary = await run(config, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, stderrIsTTY });
  if (summary.nanValues > 0) {
    if (config.nanPolicy === 'omit') {
      process.stderr.write(`losseval: warning: omitted ${summary.omittedRows} rows holding ${summary.nanValues} NaN values\n`);
    } else {
      process.stderr.write(`losseval: warning: ${summary.nanValues} NaN values in the input; rows holding them give nan, as in PyTorch\n`);
    }
  }
  if (config.reduction !== 'none' || config.json) process.stdout.write(formatResult(config, summary));
  return 0;
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
