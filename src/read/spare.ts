/**
 * Chunk buffers handed back after use (from the workers, with their results, or after an in-process
 * chunk): reused for later chunks, so that neither thread keeps allocating buffers that wait for a
 * collection, and reads land in pages already mapped. CSV blocks (read/csv-cut.ts) and Arrow
 * columns read straight from the file (read/arrow.ts) draw on it.
 */
const spares: ArrayBuffer[] = [];
/** Enough for the chunks in flight (two inputs × the ordered window) without holding much more. */
const MAX_SPARES = 16;

/** Give a chunk's buffer back for reuse by later chunks. */
export function recycleBuffer(b: ArrayBuffer): void {
  if (b.byteLength > 0 && spares.length < MAX_SPARES) spares.push(b);
}

/** A buffer of at least `bytes` bytes: the smallest large-enough spare, else a new one (contents undefined). */
export function spareBuffer(bytes: number): ArrayBuffer {
  let best = -1;
  for (let i = 0; i < spares.length; i++) {
    const n = spares[i]!.byteLength;
    if (n >= bytes && (best < 0 || n < spares[best]!.byteLength)) best = i;
  }
  return best >= 0 ? spares.splice(best, 1)[0]! : new ArrayBuffer(bytes);
}
