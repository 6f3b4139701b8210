/**
 * @module One interval timer shared by every camera's watchdog: a room's cameras are looked at in one wake-up
 * a second rather than one each, at any moment of the second.
 */

/** Calls every subscribed function once per `periodMs`, from a single timer that runs only while one is subscribed. */
export class SharedTicker {
  readonly #periodMs: number;
  readonly #subscribers = new Set<() => void>();
  #timer: NodeJS.Timeout | null = null;

  constructor(periodMs: number) {
    this.#periodMs = periodMs;
  }

  /** Calls `fn` on every tick until the returned function is called. A throwing subscriber does not stop the others. */
  subscribe(fn: () => void): () => void {
    const own = () => fn();
    this.#subscribers.add(own);
    this.#timer ??= setInterval(() => this.#tick(), this.#periodMs);
    return () => {
      this.#subscribers.delete(own);
      if (this.#subscribers.size === 0 && this.#timer) {
        clearInterval(this.#timer);
        this.#timer = null;
      }
    };
  }

  #tick(): void {
    for (const fn of [...this.#subscribers]) {
      try {
        fn();
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
