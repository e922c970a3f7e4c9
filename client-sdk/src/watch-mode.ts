import type { types } from 'mediasoup-client';
import type { RoomId } from '@onstage/protocol';
import type { WatchMode, WatchOptions } from './client-events.ts';

type WatchModeEvents = {
  /** WebRTC was given up on: drop its media and tell the app to play HLS. */
  fellBack(reason: string): void;
  hlsError(message: string): void;
};

/**
 * How a viewer receives the show (WebRTC or HLS) and the fallback between them: in 'auto', a
 * WebRTC failure, or a receive transport not connected in time once media is due, switches the
 * viewer to HLS for the rest of the session. Also plays the HLS when asked.
 */
export class WatchModeController {
  #choice: 'auto' | WatchMode = 'auto';
  #mode: WatchMode = 'webrtc';
  #fallbackAfterMs = 5000;
  #hlsLowLatency = true;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Whether falling back is allowed: a viewer in 'auto'. */
  #canFallBack = false;
  #hls: { video: HTMLVideoElement; stop: () => void; abort: AbortController } | undefined;
  readonly #events: WatchModeEvents;

  constructor(events: WatchModeEvents) {
    this.#events = events;
  }

  /** A viewer starts watching. */
  start(options: WatchOptions): void {
    this.#choice = options.mode ?? 'auto';
    this.#fallbackAfterMs = options.fallbackAfterMs ?? 5000;
    this.#hlsLowLatency = options.hlsLowLatency ?? true;
    this.#mode = this.#choice === 'hls' ? 'hls' : 'webrtc';
    this.#canFallBack = this.#choice === 'auto';
  }

  /** A host (or a client not watching): always WebRTC, never falls back. */
  startAsPublisher(): void {
    this.#choice = 'webrtc';
    this.#mode = 'webrtc';
    this.#canFallBack = false;
  }

  get mode(): WatchMode {
    return this.#mode;
  }

  /** Why the mode is what it is, once the join is done (for the `mode` event). */
  get reason(): string {
    return this.#choice === 'hls' ? 'HLS was asked for' : 'WebRTC';
  }

  /** Gives up on WebRTC (auto mode only); returns whether it did. */
  fallBack(reason: string): boolean {
    if (this.#mode === 'hls' || !this.#canFallBack) return false;
    this.#mode = 'hls';
    this.#clearTimer();
    this.#events.fellBack(reason);
    return true;
  }

  /** Whether a failure should end in HLS rather than an error. */
  get fallsBack(): boolean {
    return this.#canFallBack && this.#mode === 'webrtc';
  }

  /** Watches a receive transport: connected in time is fine, failed means HLS. */
  watch(transport: types.Transport): void {
    if (!this.#canFallBack) return;
    transport.on('connectionstatechange', (state) => {
      if (state === 'connected') this.#clearTimer();
      if (state === 'failed' && !transport.closed) this.fallBack('WebRTC connection failed');
    });
  }

  /** Media is about to flow on `transport`: WebRTC has `fallbackAfterMs` to connect. */
  arm(transport: types.Transport): void {
    if (!this.#canFallBack || this.#timer || transport.connectionState === 'connected') return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (transport.connectionState !== 'connected' && !transport.closed) {
        this.fallBack(`WebRTC did not connect within ${this.#fallbackAfterMs} ms`);
      }
    }, this.#fallbackAfterMs);
  }

  /** Plays the room's HLS in `video` once the server has it; replaces an earlier element. */
  attachHls(video: HTMLVideoElement, url: string, room: RoomId, token: () => Promise<string>): void {
    this.detachHls();
    const abort = new AbortController();
    const entry = { video, stop: () => {}, abort };
    this.#hls = entry;
    // Loaded only now (a chunk of its own, with hls.js and the status schema): WebRTC viewers never download it.
    import('./hls-player.ts')
      .then(async ({ playHls, waitForHls }) => {
        const hlsUrl = await waitForHls(url, room, abort.signal, token);
        if (this.#hls === entry) entry.stop = playHls(video, hlsUrl, this.#hlsLowLatency, (message) => this.#events.hlsError(message));
      })
      .catch((err: unknown) => abort.signal.aborted || this.#events.hlsError(`cannot play HLS (${(err as Error).message})`));
  }

  /** The element HLS plays in, if any (a new show starts its playback over). */
  get hlsVideo(): HTMLVideoElement | undefined {
    return this.#hls?.video;
  }

  detachHls(): void {
    this.#hls?.abort.abort();
    this.#hls?.stop();
    this.#hls = undefined;
  }

  stop(): void {
    this.detachHls();
    this.#clearTimer();
  }

  #clearTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
