import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import type { LiveStatus } from '@onstage/protocol';
import { demoPageReady } from './browser.ts';

const run = promisify(execFile);

/**
 * A page whose "camera" is a canvas of one solid colour (1280x720, 30 fps) and whose "microphone"
 * is a 440 Hz tone, so the composite's halves can be told apart by colour.
 */
export async function openSolidColourPage(browser: Browser, url: string, rgb: [number, number, number]): Promise<Page> {
  const context = await browser.newContext();
  await context.addInitScript((colour: [number, number, number]) => {
    navigator.mediaDevices.getUserMedia = async (constraints?: MediaStreamConstraints) => {
      const canvas = Object.assign(document.createElement('canvas'), { width: 1280, height: 720 });
      const g = canvas.getContext('2d')!;
      let n = 0;
      // Repaint every frame (a canvas track only sends frames when painted); a small corner square
      // changes so the encoder has motion.
      setInterval(() => {
        g.fillStyle = `rgb(${colour.join(',')})`;
        g.fillRect(0, 0, 1280, 720);
        g.fillStyle = n++ % 2 ? '#fff' : '#000';
        g.fillRect(0, 0, 16, 16);
      }, 33);
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
  }, rgb);
  const page = await context.newPage();
  page.on('pageerror', (err) => process.stderr.write(`[page ${url}] ${err.message}\n`));
  await page.goto(url);
  await demoPageReady(page);
  return page;
}

export async function liveStatus(origin: string, room: string): Promise<LiveStatus> {
  return (await (await fetch(`${origin}/api/live/${room}`)).json()) as LiveStatus;
}

export type ProbedStream = { codec_name: string; codec_type: string; width?: number; height?: number };

/** ffprobe's view of a file or URL: streams, duration and where its timeline starts. */
export async function probe(input: string): Promise<{ streams: ProbedStream[]; duration: number; start: number }> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,codec_type,width,height:format=duration,start_time', '-of', 'json', input]);
  const out = JSON.parse(stdout) as { streams: ProbedStream[]; format: { duration?: string; start_time?: string } };
  return { streams: out.streams, duration: Number.parseFloat(out.format.duration ?? 'NaN'), start: Number.parseFloat(out.format.start_time ?? '0') };
}

/** The time between consecutive video frames of a file (or URL), by their timestamps, ms. */
export async function frameGaps(input: string): Promise<number[]> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', input], { maxBuffer: 1 << 26 });
  const times = stdout.split('\n').map(Number.parseFloat).filter(Number.isFinite).sort((a, b) => a - b);
  return times.slice(1).map((t, i) => Math.round((t - times[i]!) * 1000));
}

/**
 * The average colour of the left and right halves of the middle band (a quarter of the height) of
 * each frame, at `fps` frames a second (all frames without it).
 */
export async function halvesOverTime(input: string, fps?: number): Promise<{ left: number[]; right: number[] }[]> {
  const filter = `${fps ? `fps=${fps},` : ''}crop=iw:ih/4:0:3*ih/8,format=rgb24,scale=2:1:flags=area`;
  const { stdout } = await run('ffmpeg', ['-v', 'error', '-i', input, '-vf', filter, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], {
    encoding: 'buffer',
    maxBuffer: 1 << 24,
  });
  return Array.from({ length: Math.floor(stdout.length / 6) }, (_, i) => ({ left: [...stdout.subarray(i * 6, i * 6 + 3)], right: [...stdout.subarray(i * 6 + 3, i * 6 + 6)] }));
}

/** The average colour of the left and right halves of the middle band (a quarter of the height) of the last decoded frame. */
export async function halvesColour(input: string): Promise<{ left: number[]; right: number[] }> {
  const frames = await halvesOverTime(input);
  const last = frames.at(-1);
  if (!last) throw new Error(`no frame decoded from ${input}`);
  return last;
}

/** The segment URIs of a media playlist, in order. */
/**
 * A complete segment (or an independent LL-HLS part) of a live fMP4 playlist as a playable file
 * (its init section, then the media), for ffprobe and ffmpeg: the last complete segment unless
 * `segment` names one.
 */
export async function segmentMedia(playlistUrl: string, playlist: string, segment = segmentsOf(playlist).at(-1)): Promise<string> {
  if (!segment) throw new Error('no complete segment listed');
  const before = playlist.slice(0, playlist.indexOf(segment));
  const init = [...before.matchAll(/#EXT-X-MAP:URI="([^"]+)"/g)].at(-1)?.[1];
  if (!init) throw new Error(`no EXT-X-MAP before ${segment}`);
  const bytes = await Promise.all([init, segment].map(async (uri) => {
    const res = await fetch(new URL(uri, playlistUrl));
    if (!res.ok) throw new Error(`${uri}: HTTP ${res.status}`);
    return Buffer.from(await res.arrayBuffer());
  }));
  const file = join(mkdtempSync(join(tmpdir(), 'onstage-seg-')), `${segment}.mp4`);
  writeFileSync(file, Buffer.concat(bytes));
  return file;
}

/** The complete segments a media playlist lists (URIs), oldest first. */
export function segmentsOf(playlist: string): string[] {
  return playlist.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
}

/** A <video>'s playback: position and frames the browser decoded for it. */
export async function videoPlayback(page: Page, selector: string): Promise<{ currentTime: number; frames: number; width: number }> {
  return page.evaluate((sel) => {
    const v = document.querySelector(sel) as HTMLVideoElement | null;
    return { currentTime: v?.currentTime ?? 0, frames: v?.getVideoPlaybackQuality().totalVideoFrames ?? 0, width: v?.videoWidth ?? 0 };
  }, selector);
}

/** Every segment of a live media playlist as it appears (polled every 200 ms): its duration, date, and when it was first listed. */
export class PlaylistWatch {
  readonly segments: { uri: string; seconds: number; seenAt: number; afterDiscontinuity: boolean; dateMs: number }[] = [];
  readonly #seen = new Set<string>();
  readonly url: string;
  /** The last playlist fetched. */
  latest = '';
  #stopped = false;
  readonly #done: Promise<void>;

  constructor(url: string) {
    this.url = url;
    this.#done = this.#poll();
  }

  async #poll(): Promise<void> {
    while (!this.#stopped) {
      const res = await fetch(this.url).catch(() => undefined);
      if (res?.ok) this.#take(await res.text(), Date.now());
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  #take(playlist: string, now: number): void {
    this.latest = playlist;
    let seconds = 0;
    let discontinuity = false;
    let dateMs = Number.NaN;
    for (const line of playlist.split('\n')) {
      if (line.startsWith('#EXTINF:')) seconds = Number.parseFloat(line.slice(8));
      else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) dateMs = Date.parse(line.slice(25));
      else if (line.startsWith('#EXT-X-DISCONTINUITY')) discontinuity = true;
      else if (line.trim() && !line.startsWith('#')) {
        if (!this.#seen.has(line)) {
          this.#seen.add(line);
          this.segments.push({ uri: line, seconds, seenAt: now, afterDiscontinuity: discontinuity, dateMs });
        }
        discontinuity = false;
      }
    }
  }

  /** Between each segment and the next, the media time (by their dates) neither covers, ms (negative: overlap). */
  gaps(): number[] {
    return this.segments.slice(1).map((s, i) => {
      const before = this.segments[i]!;
      return Math.round(s.dateMs - (before.dateMs + before.seconds * 1000));
    });
  }

  /** Media seconds listed between two instants (by when each segment first appeared). */
  mediaBetween(from: number, to: number): number {
    return this.segments.filter((s) => s.seenAt > from && s.seenAt <= to).reduce((n, s) => n + s.seconds, 0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#done;
  }
}
