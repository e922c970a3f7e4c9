import type { types } from 'mediasoup-client';

/**
 * This client's own tracks: the ones it sends whenever it is on stage (kept across reconnects and
 * stage turns), and their producers while they go out.
 */
export class LocalParticipant {
  #tracks: MediaStreamTrack[] = [];
  readonly #producers = new Map<string, types.Producer>();

  /** Adds tracks to send (each once). */
  add(stream: MediaStream): void {
    for (const track of stream.getTracks()) if (!this.#tracks.includes(track)) this.#tracks.push(track);
  }

  /** Sends every track not going out yet, with `produce`. */
  async sendAll(produce: (track: MediaStreamTrack) => Promise<types.Producer>): Promise<void> {
    for (const track of this.#tracks) {
      if (this.#producers.has(track.id) || track.readyState === 'ended') continue;
      this.#producers.set(track.id, await produce(track));
    }
  }

  /** Stops sending (the server closed the producers, or the transports are going away); the tracks stay. */
  stopSending(): void {
    for (const p of this.#producers.values()) p.close();
    this.#producers.clear();
  }

  /** Forgets the tracks too (leaving the room). */
  clear(): void {
    this.stopSending();
    this.#tracks = [];
  }
}
