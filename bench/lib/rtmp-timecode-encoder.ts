import { spawn, type ChildProcess } from 'node:child_process';
import { BITS, BLOCK, HEIGHT, LEFT, TOP } from './timecode.ts';

const WIDTH = 1280;
const HEIGHT_PX = 720;
const FPS = 30;

/**
 * An RTMP encoder whose picture carries the time code (bench/lib/timecode.ts): this process paints
 * each 1280x720 frame (Y plane: gray, with the blocks for Date.now() at the moment it is handed
 * over) and FFmpeg encodes it as an encoder would (x264 `veryfast`, `zerolatency`, no B-frames,
 * keyframe every second; AAC tone) and publishes it over RTMP to `url`.
 */
export function startTimecodeRtmpEncoder(url: string): { stop(): Promise<void> } {
  const ffmpeg: ChildProcess = spawn(
    process.env['FFMPEG_PATH'] ?? 'ffmpeg',
    [
      '-hide_banner', '-loglevel', 'error',
      '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${WIDTH}x${HEIGHT_PX}`, '-framerate', String(FPS), '-i', 'pipe:0',
      '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-profile:v', 'main', '-bf', '0', '-g', String(FPS), '-b:v', '2000k', '-pix_fmt', 'yuv420p',
      '-c:a', 'aac', '-b:a', '128k', '-shortest', '-f', 'flv', url,
    ],
    { stdio: ['pipe', 'ignore', 'inherit'] },
  );
  const frameBytes = (WIDTH * HEIGHT_PX * 3) / 2;
  const template = Buffer.alloc(frameBytes, 128);
  const timer = setInterval(() => {
    const frame = Buffer.from(template);
    const now = Date.now() % 2 ** 32;
    for (let i = -1; i <= BITS; i++) {
      const on = i === -1 ? true : i === BITS ? false : Math.floor(now / 2 ** (BITS - 1 - i)) % 2 === 1;
      const x = LEFT + (i + 1) * BLOCK;
      for (let y = TOP; y < TOP + HEIGHT; y++) frame.fill(on ? 255 : 0, y * WIDTH + x, y * WIDTH + x + BLOCK);
    }
    ffmpeg.stdin?.write(frame);
  }, 1000 / FPS);
  ffmpeg.stdin?.on('error', () => clearInterval(timer));
  const exited = new Promise<void>((resolve) => ffmpeg.once('exit', () => resolve()));
  return {
    async stop() {
      clearInterval(timer);
      // The end of the pictures ends the output (-shortest); FFmpeg then ends its RTMP stream cleanly.
      ffmpeg.stdin?.end();
      const kill = setTimeout(() => ffmpeg.kill('SIGINT'), 3000);
      await exited;
      clearTimeout(kill);
    },
  };
}
