/**
 * Runs `flush` at most once per `intervalMs`, and always after the last `schedule()`: the first
 * change of a quiet period goes out on the next turn of the event loop, later ones are folded into
 * one flush at the end of the interval. This is how a room's burst of changes costs one message
 * per recipient instead of one per change.
 */
export class Throttle {
  readonly #intervalMs: number;
  readonly #flush: () => void;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #lastAt = -Infinity;

  constructor(intervalMs: number, flush: () => void, now: () => number = Date.now) {
    this.#intervalMs = intervalMs;
    this.#flush = flush;
    this.#now = now;
  }

  schedule(): void {
    if (this.#timer) return;
    const wait = Math.max(0, this.#lastAt + this.#intervalMs - this.#now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#lastAt = this.#now();
      this.#flush();
    }, wait);
    this.#timer.unref();
  }

  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
