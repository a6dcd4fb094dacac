/**
 * The worker pool: piscina with at most one thread per --workers, tasks submitted in
 * order, at most `maxInFlight` outstanding, results taken back in order.
 *
 * Threads start as chunks arrive (one more whenever a chunk waits and fewer than `workers`
 * run), so an input of k chunks never starts more than k threads; `warm` of them may be started
 * at once, before the first chunk, for an input known to be large.
 */
import { availableParallelism } from 'node:os';
import type { Piscina } from 'piscina';
import type { ChunkTask, TaskResult } from './task.js';

export interface KernelPool {
  /** Submit a chunk; the promise settles with its result. Buffers in `transfer` move to the worker. */
  submit(task: ChunkTask, transfer: ArrayBuffer[]): Promise<TaskResult>;
  /** Threads started so far. */
  readonly threads: number;
  /** Settles once piscina is loaded and the pool (with its warm threads) is made. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

/** Threads per available CPU beyond which more workers only cost start-up time and memory. */
export const WORKERS_PER_CPU = 4;

/**
 * The worker count to use for `requested`: at most WORKERS_PER_CPU × the available parallelism,
 * with the note to show when it was lowered (null otherwise).
 */
export function capWorkers(requested: number, cpus = availableParallelism()): { workers: number; note: string | null } {
  const cap = WORKERS_PER_CPU * Math.max(1, cpus);
  if (requested <= cap) return { workers: requested, note: null };
  return {
    workers: cap,
    note: `--workers ${requested}: using ${cap} (at most ${WORKERS_PER_CPU} per available CPU; ${cpus} available)`,
  };
}

// a CommonJS entry: see worker-entry.cts
const WORKER = new URL('./worker-entry.cjs', import.meta.url);

/** `parquet`: the input holds Parquet files (each thread loads the decoder as it starts). */
export function createPool(workers: number, warm = 0, parquet = false): KernelPool {
  // piscina is loaded with the first pool (~20 ms of module loading that an input run in-process never pays)
  let started: Piscina | null = null;
  const ready = import('piscina').then(({ Piscina: P }) => {
    const pool = new P({
      filename: WORKER.href,
      minThreads: Math.min(workers, Math.max(0, warm)),
      maxThreads: workers,
      // one task per thread at a time: the main thread bounds what is in flight
      concurrentTasksPerWorker: 1,
      idleTimeout: 60_000,
      workerData: { parquet },
    });
    // failures surface through the tasks' promises; never let an 'error' event end the process
    pool.on('error', () => undefined);
    started = pool;
    return pool;
  });
  return {
    submit(task, transfer) {
      return ready.then((pool) => pool.run(task, { transferList: transfer }) as Promise<TaskResult>);
    },
    get threads() {
      return started?.threads.length ?? 0;
    },
    ready: ready.then(() => undefined),
    async close() {
      await (await ready).destroy();
    },
  };
}
