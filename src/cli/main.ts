/**
 * The process: the only place that reads process.argv, handles signals and a
 * closed stdout, and sets the exit code. Everything else is runCli (cli.ts).
 */
import { removeTempFilesNow } from '../cleanup.js';
import { runCli } from './cli.js';

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

runCli(process.argv.slice(2), {
  stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, stderrIsTTY: process.stderr.isTTY === true,
  stdoutIsTTY: process.stdout.isTTY === true,
}).then((code) => {
  process.exitCode = code;
});
