import type { Rendition } from './layout.ts';

/** The file descriptor rendition `i`'s fragmented MP4 is written to (0-2 are stdio). */
export const outputFd = (i: number) => 3 + i;

/**
 * FFmpeg's arguments for packaging the stage mixer's output: the encoded ladder arrives as
 * Matroska on stdin (video i + audio i per rendition i), and each rendition is copied, not
 * re-encoded, into fragmented MP4 (CMAF-style: an init section, then a moof + mdat per fragment of
 * at most `partSeconds`, a new one at each keyframe) on its own pipe, flushed as each fragment is
 * done. The recorder makes LL-HLS parts and segments of the fragments and writes the top
 * rendition's into the recording.
 */
export function packagerArgs(renditions: Rendition[], partSeconds: number): string[] {
  const args = [
    '-hide_banner', '-nostdin', '-loglevel', 'warning', '-y',
    // Matroska's header names the codecs; a fifth of a second of packets fills in what it leaves out
    // (pixel format, AAC frame size). Once per show: stage changes never restart this process.
    '-analyzeduration', '200000', '-fpsprobesize', '0',
    '-f', 'matroska', '-i', 'pipe:0',
  ];
  renditions.forEach((_, i) => {
    args.push(
      '-map', `0:v:${i}`, '-map', `0:a:${i}`, '-c', 'copy',
      '-f', 'mp4', '-movflags', 'empty_moov+default_base_moof+frag_keyframe', '-frag_duration', String(Math.round(partSeconds * 1e6)),
      '-flush_packets', '1', `pipe:${outputFd(i)}`,
    );
  });
  return args;
}
