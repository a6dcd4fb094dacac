/**
 * Looking at the first bytes of a stream without losing them: read ahead into
 * a list of buffers, then replay them before the rest of the stream.
 */

/** Read from `it` into `head` until at least `n` bytes are buffered (or the stream ends). */
export async function readHead(it: AsyncIterator<Uint8Array>, head: Uint8Array[], have: number, n: number):
  Promise<{ have: number; done: boolean }> {
  while (have < n) {
    const r = await it.next();
    if (r.done) return { have, done: true };
    const b = r.value instanceof Uint8Array ? r.value : new Uint8Array(r.value as ArrayBufferLike);
    if (b.length === 0) continue;
    head.push(b);
    have += b.length;
  }
  return { have, done: false };
}

/** The first `n` bytes of `parts`, as one array (shorter if there are fewer). */
export function concat(parts: Uint8Array[], n: number): Uint8Array {
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    if (o >= n) break;
    const take = Math.min(p.length, n - o);
    out.set(p.subarray(0, take), o);
    o += take;
  }
  return out.subarray(0, o);
}

/** `head` (minus its first `skip` bytes), then the rest of `it`; closes `it` when abandoned. */
export async function* replay(head: Uint8Array[], skip: number, it: AsyncIterator<Uint8Array>, done: boolean):
  AsyncGenerator<Uint8Array> {
  try {
    for (const h of head) {
      if (skip >= h.length) { skip -= h.length; continue; }
      yield skip > 0 ? h.subarray(skip) : h;
      skip = 0;
    }
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  } finally {
    if (!done) await it.return?.();
  }
}
