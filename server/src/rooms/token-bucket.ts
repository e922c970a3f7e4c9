/** A token bucket: `burst` tokens, refilled at `perSecond`. Time is passed in, so it is pure. */
export class TokenBucket {
  readonly #burst: number;
  readonly #perMs: number;
  #tokens: number;
  #at: number;

  constructor(burst: number, perSecond: number, now: number) {
    this.#burst = burst;
    this.#perMs = perSecond / 1000;
    this.#tokens = burst;
    this.#at = now;
  }

  /** Whether it has refilled to its burst by `now` (it then holds nothing worth keeping). */
  isFull(now: number): boolean {
    return this.#tokens + Math.max(0, now - this.#at) * this.#perMs >= this.#burst;
  }

  /** Takes one token if there is one. */
  take(now: number): boolean {
    this.#tokens = Math.min(this.#burst, this.#tokens + Math.max(0, now - this.#at) * this.#perMs);
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
