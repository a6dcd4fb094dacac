/**
 * Bounded, ordered pipelining: keep at most `limit` tasks in flight and hand
 * their results to `onResult` strictly in submission order. Memory stays flat
 * whatever the input size: the producer waits while the window is full.
 */
export class OrderedWindow<T> {
  private readonly pending: Promise<T>[] = [];

  constructor(
    private readonly limit: number,
    private readonly onResult: (r: T) => void | Promise<void>,
  ) {}

  get inFlight(): number {
    return this.pending.length;
  }

  /** Add a task; waits for (and handles) the oldest results while the window is full. */
  async push(p: Promise<T>): Promise<void> {
    // a later task may fail while we wait for an earlier one: mark it handled now, rethrow in order
    p.catch(() => undefined);
    this.pending.push(p);
    while (this.pending.length >= this.limit) await this.onResult(await this.pending.shift()!);
  }

  /** After a failure: wait until every task still in flight has settled (results dropped). */
  async settle(): Promise<void> {
    const rest = this.pending.splice(0);
    await Promise.allSettled(rest);
  }

  /** Handle everything still in flight, in order. */
  async drain(): Promise<void> {
    while (this.pending.length) await this.onResult(await this.pending.shift()!);
  }
}
