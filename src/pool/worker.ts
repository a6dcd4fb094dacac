/** Piscina worker entry: run one chunk, transfer the output buffers back. */
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { runChunk } from './chunk.js';
import type { ChunkTask, TaskResult } from './task.js';

export default function work(task: ChunkTask): unknown {
  const result: TaskResult = runChunk(task);
  const transfer: ArrayBuffer[] = [];
  if (result.ok) {
    if (result.csv) transfer.push(result.csv.buffer as ArrayBuffer);
    if (result.columns) for (const c of result.columns) transfer.push(c.buffer as ArrayBuffer);
  }
  if (transfer.length === 0) return result;
  return move({ [transferableSymbol]: transfer, [valueSymbol]: result } as never);
}
