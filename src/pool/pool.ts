/**
 * The worker pool: piscina with one thread per --workers, tasks submitted in
 * order, at most `maxInFlight` outstanding, results taken back in order.
 */
import { Piscina } from 'piscina';
import type { ChunkTask, TaskResult } from './task.js';

export interface KernelPool {
  /** Submit a chunk; the promise settles with its result. Buffers in `transfer` move to the worker. */
  submit(task: ChunkTask, transfer: ArrayBuffer[]): Promise<TaskResult>;
  close(): Promise<void>;
}

// a CommonJS entry: see worker-entry.cts
const WORKER = new URL('./worker-entry.cjs', import.meta.url);

export function createPool(workers: number): KernelPool {
  const pool = new Piscina({
    filename: WORKER.href,
    minThreads: workers,
    maxThreads: workers,
    // one task per thread at a time: the main thread bounds what is in flight
    concurrentTasksPerWorker: 1,
    idleTimeout: 60_000,
  });
  // failures surface through the tasks' promises; never let an 'error' event end the process
  pool.on('error', () => undefined);
  return {
    submit(task, transfer) {
      return pool.run(task, { transferList: transfer }) as Promise<TaskResult>;
    },
    async close() {
      await pool.destroy();
    },
  };
}
