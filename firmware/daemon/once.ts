// One result per interval, however many callers ask in it: the first call
// starts the work, the others share it (also while it runs), and nothing
// runs while nobody asks. The daemon's sessions report is such a result:
// reading a big conntrack table costs the router real CPU.

export class OncePerInterval<T> {
  private result: Promise<T> | null = null;
  private startedAt = 0;

  constructor(
    private readonly work: () => Promise<T>,
    private readonly intervalMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get(): Promise<T> {
    const now = this.now();

    if (this.result === null || now - this.startedAt >= this.intervalMs) {
      const result = this.work();

      this.result = result;
      this.startedAt = now;
      // A failure is for its callers; the next call tries again.
      result.catch(() => {
        if (this.result === result) this.result = null;
      });
    }

    return this.result;
  }

  /** The next call starts afresh (after an apply: new counters). */
  forget(): void {
    this.result = null;
  }
}
