/** Piscina worker entry: run one chunk, transfer the output buffers back. */
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { prepareChunk, runChunk, recyclable } from './chunk.js';
import type { ChunkTask, TaskResult } from './task.js';

export default async function work(task: ChunkTask): Promise<unknown> {
  await prepareChunk(task);
  let result: TaskResult = runChunk(task);
  const transfer: ArrayBuffer[] = [];
  if (result.ok) {
    if (result.csv) transfer.push(result.csv.buffer as ArrayBuffer);
    if (result.columns) for (const c of result.columns) transfer.push(c.buffer as ArrayBuffer);
    // The CSV bytes go back to the main thread for reuse (read/spare.ts): left here, dead
    // chunks pile up until a collection (measured: ~70 MB more peak RSS per run).
    const recycled = recyclable(task.parts);
    if (recycled.length > 0) {
      result = { ...result, recycled };
      transfer.push(...recycled);
    }
  }
  if (transfer.length === 0) return result;
  return move({ [transferableSymbol]: transfer, [valueSymbol]: result } as never);
}
