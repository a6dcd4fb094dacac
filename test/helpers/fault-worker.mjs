/**
 * The pool's worker with faults, for the reliability tests (loaded through fault-hooks.mjs).
 * LOSSEVAL_FAULT is a comma-separated list of
 *   throw:N        chunk N (its task's seq) throws Error('injected fault')
 *   exit:N         the worker running chunk N exits with code 7
 *   slow:N:MS      chunk N announces its start (a file `started-N` in LOSSEVAL_FAULT_DIR), then keeps
 *                  its thread busy MS milliseconds before running
 *   after:N:M      chunk N waits until chunk M has started (its `started-M` file) before running
 *   bug            (no chunk) the main thread's formatResult throws a TypeError (fault-loader.mjs)
 * Every chunk that reaches the real worker leaves a file `ran-N` in LOSSEVAL_FAULT_DIR when that is set.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import real from '../../dist/pool/worker.js?real';

const faults = (process.env.LOSSEVAL_FAULT ?? '').split(',').filter((s) => s !== '' && s !== 'bug').map((s) => {
  const m = /^(throw|exit|slow|after):(\d+)(?::(\d+))?$/.exec(s);
  if (!m) throw new Error(`fault-worker: bad LOSSEVAL_FAULT entry ${JSON.stringify(s)}`);
  return { kind: m[1], seq: Number(m[2]), arg: m[3] === undefined ? null : Number(m[3]) };
});
const dir = process.env.LOSSEVAL_FAULT_DIR ?? null;
const cell = new Int32Array(new SharedArrayBuffer(4));
/** Block this thread (not just its event loop). */
const block = (ms) => Atomics.wait(cell, 0, 0, ms);
const mark = (name) => {
  if (dir !== null) writeFileSync(join(dir, name), '');
};

export default function work(task) {
  for (const f of faults) {
    if (f.seq !== task.seq) continue;
    if (f.kind === 'exit') process.exit(7);
    if (f.kind === 'throw') throw new Error('injected fault');
    if (f.kind === 'slow') {
      mark(`started-${task.seq}`);
      block(f.arg ?? 0);
    }
    if (f.kind === 'after') {
      if (dir === null) throw new Error('fault-worker: after:N:M needs LOSSEVAL_FAULT_DIR');
      while (!existsSync(join(dir, `started-${f.arg}`))) block(2);
    }
  }
  mark(`ran-${task.seq}`);
  return real(task);
}
