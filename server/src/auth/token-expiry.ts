/** setTimeout holds at most this (about 24.8 days); longer waits are done in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export type ExpiryHandlers = {
  /** The token expires at `expiresAt`: time to renew it. */
  expiring(expiresAt: number): void;
  /** The token has expired. */
  expired(): void;
};

/**
 * The life of one connection's token: a notice `noticeMs` before it expires (or half-way through
 * what is left, for short tokens), then the end. Renewing moves both.
 */
export class TokenExpiry {
  readonly #noticeMs: number;
  readonly #handlers: ExpiryHandlers;
  readonly #now: () => number;
  #timers: NodeJS.Timeout[] = [];
  #expiresAt = 0;

  constructor(expiresAt: number, noticeMs: number, handlers: ExpiryHandlers, now: () => number = Date.now) {
    this.#noticeMs = noticeMs;
    this.#handlers = handlers;
    this.#now = now;
    this.renew(expiresAt);
  }

  get expiresAt(): number {
    return this.#expiresAt;
  }

  renew(expiresAt: number): void {
    this.stop();
    this.#expiresAt = expiresAt;
    const left = expiresAt - this.#now();
    const notice = Math.min(this.#noticeMs, left / 2);
    this.#at(expiresAt - notice, () => this.#handlers.expiring(expiresAt));
    this.#at(expiresAt, () => this.#handlers.expired());
  }

  stop(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers = [];
  }

  #at(when: number, run: () => void): void {
    const wait = when - this.#now();
    const timer = setTimeout(() => {
      this.#timers = this.#timers.filter((t) => t !== timer);
      if (wait > MAX_TIMER_MS) this.#at(when, run);
      else run();
    }, Math.max(0, Math.min(wait, MAX_TIMER_MS)));
    timer.unref();
    this.#timers.push(timer);
  }
}
