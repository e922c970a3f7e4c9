import type { BrowserContext, Page } from 'playwright-core';

/**
 * A machine-readable clock in the video: the host's "camera" is a canvas that paints, every frame,
 * Date.now() mod 2^32 as 32 black/white blocks (plus a white start block and a black stop block)
 * across the middle of the picture. A viewer reads the blocks back from each decoded frame and
 * subtracts the time from its own clock: same machine, same clock, so the difference is the
 * glass-to-glass delay (capture → encode → server → decode → display).
 */
export const BITS = 32;
export const BLOCK = 36; // px on the 1280-wide source; 9 px even in a 320-wide picture
export const TOP = 320;
export const HEIGHT = 80;
/** The blocks start this far from the left edge (the start block first). */
export const LEFT = 64;

export async function installTimecodeCamera(context: BrowserContext): Promise<void> {
  await context.addInitScript(
    ({ bits, block, top, height, left }) => {
      navigator.mediaDevices.getUserMedia = async (constraints?: MediaStreamConstraints) => {
        const canvas = Object.assign(document.createElement('canvas'), { width: 1280, height: 720 });
        const g = canvas.getContext('2d')!;
        const paint = () => {
          const now = Date.now() % 2 ** 32;
          g.fillStyle = '#808080';
          g.fillRect(0, 0, 1280, 720);
          for (let i = -1; i <= bits; i++) {
            const on = i === -1 ? true : i === bits ? false : Math.floor(now / 2 ** (bits - 1 - i)) % 2 === 1;
            g.fillStyle = on ? '#fff' : '#000';
            g.fillRect(left + (i + 1) * block, top, block, height);
          }
        };
        setInterval(paint, 10);
        const tracks: MediaStreamTrack[] = [];
        if (constraints?.video) tracks.push(...canvas.captureStream(30).getVideoTracks());
        if (constraints?.audio) {
          const ctx = new AudioContext();
          const osc = ctx.createOscillator();
          const out = ctx.createMediaStreamDestination();
          osc.connect(out);
          osc.start();
          tracks.push(...out.stream.getAudioTracks());
        }
        return new MediaStream(tracks);
      };
    },
    { bits: BITS, block: BLOCK, top: TOP, height: HEIGHT, left: LEFT },
  );
}

/**
 * Reads the time code from every frame `selector`'s <video> presents, for `ms`, and returns the
 * delays (ms). Frames whose start/stop blocks do not read right are skipped.
 */
export async function readDelays(page: Page, selector: string, ms: number): Promise<number[]> {
  return page.evaluate(
    async ({ selector, ms, bits, block, top, height, left }) => {
      const video = document.querySelector(selector) as HTMLVideoElement;
      const canvas = document.createElement('canvas');
      const g = canvas.getContext('2d', { willReadFrequently: true })!;
      const delays: number[] = [];
      await new Promise<void>((resolve) => {
        const end = performance.now() + ms;
        const onFrame = () => {
          const w = video.videoWidth;
          const h = video.videoHeight;
          if (w > 0) {
            canvas.width = w;
            canvas.height = h;
            g.drawImage(video, 0, 0, w, h);
            const sx = w / 1280;
            const sy = h / 720;
            const bit = (i: number) => {
              const x = Math.round((left + (i + 1) * block + block / 2) * sx);
              const y = Math.round((top + height / 2) * sy);
              const [r, gg, b] = g.getImageData(x, y, 1, 1).data;
              return (r! + gg! + b!) / 3 > 128;
            };
            if (bit(-1) && !bit(bits)) {
              let value = 0;
              for (let i = 0; i < bits; i++) value = value * 2 + (bit(i) ? 1 : 0);
              const delay = (Date.now() % 2 ** 32) - value;
              if (delay >= 0 && delay < 60_000) delays.push(delay);
            }
          }
          if (performance.now() < end) video.requestVideoFrameCallback(onFrame);
          else resolve();
        };
        video.requestVideoFrameCallback(onFrame);
      });
      return delays;
    },
    { selector, ms, bits: BITS, block: BLOCK, top: TOP, height: HEIGHT, left: LEFT },
  );
}
