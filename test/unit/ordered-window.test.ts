/**
 * In-flight work is bounded: the producer (the reader) waits while `limit`
 * chunks are outstanding, however slow the consumer (the merge / the output
 * writer) is, and results are handled strictly in submission order.
 */
import { describe, expect, it } from 'vitest';
import { OrderedWindow } from '../../src/pool/ordered.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('OrderedWindow', () => {
  it('a slow consumer does not make the queue grow', async () => {
    const limit = 4;
    let maxInFlight = 0;
    const handled: number[] = [];
    const w = new OrderedWindow<number>(limit, async (r) => {
      await sleep(2); // a slow writer
      handled.push(r);
    });
    for (let i = 0; i < 200; i++) {
      // tasks finish immediately, in reverse order of submission within a burst
      await w.push(sleep((i % 3) * 1).then(() => i));
      maxInFlight = Math.max(maxInFlight, w.inFlight);
      expect(w.inFlight).toBeLessThan(limit);
    }
    await w.drain();
    expect(maxInFlight).toBe(limit - 1);
    expect(handled).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it('a failure surfaces in order, and settle() waits for the rest without handling them', async () => {
    const handled: number[] = [];
    const w = new OrderedWindow<number>(10, (r) => {
      handled.push(r);
    });
    let lateDone = false;
    await w.push(Promise.resolve(0));
    await w.push(Promise.reject(new Error('chunk 1 failed')));
    await w.push(sleep(30).then(() => {
      lateDone = true;
      return 2;
    }));
    await expect(w.drain()).rejects.toThrow('chunk 1 failed');
    await w.settle();
    expect(lateDone).toBe(true);
    expect(handled).toEqual([0]);
    expect(w.inFlight).toBe(0);
  });
});
