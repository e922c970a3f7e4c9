import { LiveStatus, type RoomId } from '@onstage/protocol';

/**
 * Polls the server until the room's HLS is there; resolves with its absolute URL. The token is
 * sent for servers that keep live status private (MEDIA_ACCESS=token).
 */
export async function waitForHls(origin: string, room: RoomId, signal: AbortSignal, token: () => Promise<string>): Promise<string> {
  for (;;) {
    signal.throwIfAborted();
    try {
      const headers = { authorization: `Bearer ${await token()}` };
      const res = await fetch(new URL(`/api/live/${room}`, origin), { signal, cache: 'no-store', headers });
      const status = LiveStatus.safeParse(await res.json());
      if (status.success && status.data.hlsUrl) return new URL(status.data.hlsUrl, origin).href;
    } catch (err) {
      if (signal.aborted) throw err;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/**
 * Plays an HLS URL in a <video>: hls.js where Media Source Extensions exist, the browser's own HLS
 * (Safari, iOS) otherwise. hls.js is loaded only now (a chunk of its own): viewers on WebRTC never
 * download it. Returns a function that stops it (also before hls.js has loaded).
 */
export function playHls(video: HTMLVideoElement, url: string, lowLatency: boolean, onFatal: (message: string) => void): () => void {
  let stop: (() => void) | undefined;
  let stopped = false;
  void import('hls.js').then(
    ({ default: Hls }) => {
      if (stopped) return;
      stop = Hls.isSupported() ? withHlsJs(Hls, video, url, lowLatency, onFatal) : natively(video, url, onFatal);
    },
    (err: unknown) => onFatal(`hls.js did not load (${(err as Error).message})`),
  );
  return () => {
    stopped = true;
    stop?.();
  };
}

function withHlsJs(Hls: typeof import('hls.js').default, video: HTMLVideoElement, url: string, lowLatency: boolean, onFatal: (message: string) => void): () => void {
  // Low-latency mode plays the server's LL-HLS parts PART-HOLD-BACK behind the live edge (a
  // liveSync* setting would override that hold-back, so none is given) and speeds up a little to
  // get back to it; each stall moves that target back by a quarter second (hls.js's default, a whole
  // second, doubled the delay after one stall while starting on a busy machine). Without it, whole
  // segments two target durations behind.
  const hls = new Hls(
    lowLatency
      ? { lowLatencyMode: true, maxLiveSyncPlaybackRate: 1.1, liveSyncOnStallIncrease: 0.25, backBufferLength: 30 }
      : { lowLatencyMode: false, liveSyncDurationCount: 2, liveMaxLatencyDurationCount: 6, backBufferLength: 30 },
  );
  if (lowLatency) hls.on(Hls.Events.LEVEL_UPDATED, (_event, { details }) => jumpToLiveIfFarBehind(hls, video, details.targetduration));
  hls.on(Hls.Events.ERROR, (_event, data) => {
    if (!data.fatal) return;
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
    else onFatal(`${data.type}: ${data.details}`);
  });
  hls.loadSource(url);
  hls.attachMedia(video);
  void video.play().catch(() => {});
  return () => hls.destroy();
}

/**
 * hls.js speeds up only while it is within a target duration of its target delay; a player that
 * started further behind (its first parts loaded slowly) would stay there for the whole show. Such
 * a player jumps to the live position when that position is already buffered, so the picture never
 * goes blank. (hls.js's own jump, `liveMaxLatencyDuration`, is refused without a `liveSyncDuration`,
 * which would override the server's PART-HOLD-BACK.)
 */
export function jumpToLiveIfFarBehind(
  hls: Pick<import('hls.js').default, 'liveSyncPosition' | 'targetLatency' | 'latency'>,
  video: Pick<HTMLVideoElement, 'paused' | 'buffered' | 'currentTime'>,
  targetDuration: number,
): void {
  const live = hls.liveSyncPosition;
  const target = hls.targetLatency;
  if (live === null || target === null || video.paused || hls.latency <= target + targetDuration) return;
  const { buffered } = video;
  for (let i = 0; i < buffered.length; i++) {
    if (buffered.start(i) <= live && live < buffered.end(i)) {
      video.currentTime = live;
      return;
    }
  }
}

function natively(video: HTMLVideoElement, url: string, onFatal: (message: string) => void): () => void {
  if (video.canPlayType('application/vnd.apple.mpegurl')) {
    video.src = url;
    void video.play().catch(() => {});
    return () => {
      video.removeAttribute('src');
      video.load();
    };
  }
  onFatal('this browser can play neither WebRTC nor HLS');
  return () => {};
}
