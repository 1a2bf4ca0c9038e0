/**
 * An in-memory Web Locks `LockManager` for Node unit tests: exclusive locks only, granted in
 * request order, `ifAvailable` answered with `null` when the lock is held or wanted, and `query()`
 * listing what is held and pending; callbacks run asynchronously, as browsers run them. One instance stands for one origin: every context under test
 * (tab sender, service worker) shares it.
 */
interface Waiter {
  grant(): void;
}

export class FakeLocks implements LockManager {
  private readonly held = new Set<string>();
  private readonly waiting = new Map<string, Waiter[]>();
  /** Names refused to an `ifAvailable` request, in order (another context held them). */
  readonly refused: string[] = [];
  private readonly refusedListeners: ((name: string) => void)[] = [];
  private readonly waitingListeners: ((name: string) => void)[] = [];

  request<T>(name: string, callback: LockGrantedCallback<T>): Promise<Awaited<T>>;
  request<T>(name: string, options: LockOptions, callback: LockGrantedCallback<T>): Promise<Awaited<T>>;
  async request<T>(name: string, a: LockOptions | LockGrantedCallback<T>, b?: LockGrantedCallback<T>): Promise<Awaited<T>> {
    const options: LockOptions = typeof a === 'function' ? {} : a;
    const callback = (typeof a === 'function' ? a : b) as LockGrantedCallback<T>;
    if (options.mode === 'shared' || options.steal || options.signal) throw new Error('FakeLocks: only exclusive locks without steal or signal');
    // As in browsers, the callback never runs inside request() itself.
    await Promise.resolve();
    const busy = this.held.has(name) || (this.waiting.get(name)?.length ?? 0) > 0;
    if (options.ifAvailable && busy) {
      this.refused.push(name);
      for (const l of this.refusedListeners) l(name);
      return await callback(null);
    }
    if (busy)
      await new Promise<void>((grant) => {
        this.queue(name).push({ grant });
        for (const l of this.waitingListeners) l(name);
      });
    this.held.add(name);
    try {
      return await callback({ name, mode: 'exclusive' });
    } finally {
      this.release(name);
    }
  }

  async query(): Promise<LockManagerSnapshot> {
    return {
      held: [...this.held].map((name) => ({ name, mode: 'exclusive', clientId: 'fake' })),
      pending: [...this.waiting].flatMap(([name, w]) => w.map(() => ({ name, mode: 'exclusive' as const, clientId: 'fake' }))),
    };
  }

  /** Holds `name` as another context would (a live tab's `ferry:live:<id>`) until the returned function is called. */
  async hold(name: string): Promise<() => void> {
    let release = (): void => {};
    const released = new Promise<void>((r) => (release = r));
    await new Promise<void>((granted) => {
      void this.request(name, () => {
        granted();
        return released;
      });
    });
    return release;
  }

  isHeld(name: string): boolean {
    return this.held.has(name);
  }

  /** Resolves when an `ifAvailable` request for `name` is refused (now or later). */
  whenRefused(name: string): Promise<void> {
    if (this.refused.includes(name)) return Promise.resolve();
    return new Promise((resolve) => this.refusedListeners.push((n) => n === name && resolve()));
  }

  /** Resolves when a request for `name` is waiting for it (now or later). */
  whenWaiting(name: string): Promise<void> {
    if (this.waiting.get(name)?.length) return Promise.resolve();
    return new Promise((resolve) => this.waitingListeners.push((n) => n === name && resolve()));
  }

  private queue(name: string): Waiter[] {
    let q = this.waiting.get(name);
    if (!q) this.waiting.set(name, (q = []));
    return q;
  }

  private release(name: string): void {
    this.held.delete(name);
    const next = this.waiting.get(name)?.shift();
    if (this.waiting.get(name)?.length === 0) this.waiting.delete(name);
    if (next) {
      this.held.add(name);
      next.grant();
    }
  }
}
