import { appendFile, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Rendition } from './layout.ts';

/** H.264 Main 3.1 + AAC-LC, what ffmpegArgs encodes. */
const CODECS = 'avc1.4d401f,mp4a.40.2';

/** The master playlist: one variant per rendition, best first. */
export function masterPlaylist(renditions: Rendition[]): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-INDEPENDENT-SEGMENTS'];
  renditions.forEach((r, i) => {
    const bandwidth = Math.round((r.videoKbps + r.audioKbps) * 1000 * 1.1);
    lines.push(`#EXT-X-STREAM-INF:BANDWIDTH=${bandwidth},RESOLUTION=${r.width}x${r.height},CODECS="${CODECS}",FRAME-RATE=30.000`);
    lines.push(`v${i}/index.m3u8`);
  });
  return `${lines.join('\n')}\n`;
}

/** Writes a file so readers see the old or the new content, never half of it. */
export async function writeAtomically(path: string, content: string): Promise<void> {
  await writeFile(`${path}.tmp`, content);
  await rename(`${path}.tmp`, path);
}

/** Marks a live media playlist as finished (the show ended); idempotent. */
export async function endPlaylist(path: string): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return false;
  }
  if (!text.includes('#EXT-X-ENDLIST')) await appendFile(path, `${text.endsWith('\n') ? '' : '\n'}#EXT-X-ENDLIST\n`);
  return true;
}

/**
 * Drops segments without bytes from a media playlist (a run stopped or killed before it wrote
 * any media leaves one behind), with their EXTINF and date lines. Called between runs, while no
 * FFmpeg writes the playlist; the next run appends to what is left.
 */
export async function pruneEmptySegments(path: string): Promise<number> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return 0;
  }
  const out: string[] = [];
  let pending: string[] = [];
  let dropped = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#EXTINF') || line.startsWith('#EXT-X-PROGRAM-DATE-TIME')) {
      pending.push(line);
      continue;
    }
    if (line !== '' && !line.startsWith('#')) {
      const size = await stat(join(dirname(path), line)).then((s) => s.size, () => 0);
      if (size === 0) dropped++;
      else out.push(...pending, line);
      pending = [];
      continue;
    }
    out.push(line);
  }
  if (dropped > 0) await writeAtomically(path, out.join('\n'));
  return dropped;
}
