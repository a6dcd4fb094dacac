// Shared by the bench scripts: run `node args…` as its own process and measure it.
// Peak RSS is /usr/bin/time's %M (max resident set of the process, worker threads included), or
// VmHWM polled from /proc when /usr/bin/time is missing (or LOSSEVAL_BENCH_NO_TIME=1).
import { spawnSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TIME_BIN = '/usr/bin/time';
export const haveTime = !process.env.LOSSEVAL_BENCH_NO_TIME && existsSync(TIME_BIN) && spawnSync(TIME_BIN, ['-f', '%M', 'true']).status === 0;
const scratch = mkdtempSync(join(tmpdir(), 'losseval-bench-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

/** Run `node args…`; returns { wallMs, rssMB, cpuS, stdout, stderr, status }. */
export async function runNode(args, env = {}) {
  const e = { ...process.env, ...env };
  if (haveTime) {
    const tf = join(scratch, 'time.txt');
    const t0 = performance.now();
    const r = spawnSync(TIME_BIN, ['-f', '%M %U %S', '-o', tf, process.execPath, ...args], { env: e, encoding: 'utf8', maxBuffer: 1 << 26 });
    const wallMs = performance.now() - t0;
    const line = readFileSync(tf, 'utf8').trim().split('\n').pop();
    const [kb, u, s] = line.split(' ').map(Number);
    return { wallMs, rssMB: kb / 1024, cpuS: u + s, stdout: r.stdout, stderr: r.stderr, status: r.status };
  }
  return new Promise((res) => {
    const t0 = performance.now();
    const ch = spawn(process.execPath, args, { env: e });
    let out = '', err = '', hwm = 0;
    ch.stdout.on('data', (d) => (out += d));
    ch.stderr.on('data', (d) => (err += d));
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${ch.pid}/status`, 'utf8'));
        if (m) hwm = Math.max(hwm, Number(m[1]));
      } catch { /* exited */ }
    }, 5);
    ch.on('close', (status) => {
      clearInterval(poll);
      res({ wallMs: performance.now() - t0, rssMB: hwm / 1024, cpuS: NaN, stdout: out, stderr: err, status });
    });
  });
}

/** The median. */
export function med(a) {
  const s = [...a].sort((x, y) => x - y);
  const n = s.length;
  return n % 2 ? s[n >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2;
}
