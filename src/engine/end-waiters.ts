/**
 * Callers of waitForEnd, woken when a commit here ends their execution. A waiter also wakes
 * after `recheckMs` to read the store again: the end may be committed by another process.
 */
export class EndWaiters {
  private readonly waiters = new Map<string, Array<() => void>>();

  constructor(private readonly recheckMs = 100) {}

  /** Resolves when the execution ends here, or after the recheck interval, whichever is first. */
  next(id: string): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const left = (this.waiters.get(id) ?? []).filter((w) => w !== wake);
        if (left.length > 0) this.waiters.set(id, left);
        else this.waiters.delete(id);
        resolve();
      }, this.recheckMs);
      const list = this.waiters.get(id) ?? [];
      list.push(wake);
      this.waiters.set(id, list);
    });
  }

  ended(id: string): void {
    const list = this.waiters.get(id);
    if (!list) return;
    this.waiters.delete(id);
    for (const wake of list) wake();
  }
}
