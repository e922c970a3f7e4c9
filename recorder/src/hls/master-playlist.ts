import type { Rendition } from '../layout.ts';

/** H.264 Main 3.1 + AAC-LC, what ffmpegArgs encodes. */
const CODECS = 'avc1.4d401f,mp4a.40.2';

/** The master playlist: one variant per rendition, best first. */
export function masterPlaylist(renditions: Rendition[]): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS'];
  renditions.forEach((r, i) => {
    const bandwidth = Math.round((r.videoKbps + r.audioKbps) * 1000 * 1.1);
    lines.push(`#EXT-X-STREAM-INF:BANDWIDTH=${bandwidth},RESOLUTION=${r.width}x${r.height},CODECS="${CODECS}",FRAME-RATE=30.000`);
    lines.push(`v${i}/index.m3u8`);
  });
  return `${lines.join('\n')}\n`;
}
