type Listener<A extends unknown[]> = (...args: A) => void;

/** A small typed event emitter that works in browsers (no Node 'events' needed). */
export class TypedEmitter<Events extends { [K in keyof Events]: unknown[] }> {
  // Each set holds listeners of its own event only (on() guarantees it).
  readonly #listeners = new Map<keyof Events, Set<unknown>>();

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => this.off(event, listener);
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    this.#listeners.get(event)?.delete(listener);
  }

  protected emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    for (const listener of [...(this.#listeners.get(event) ?? [])]) {
      try {
        (listener as Listener<Events[K]>)(...args);
      } catch (err) {
        // A faulty app listener must not break the SDK's own event handling.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
