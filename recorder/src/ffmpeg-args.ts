import { compositeFilter, FPS, type CompositeInputs, type Rendition } from './layout.ts';

export type RunOutputs = {
  segmentSeconds: number;
  /** Longest fragment (an LL-HLS part) FFmpeg writes, seconds. */
  partSeconds: number;
};

/** The file descriptor rendition `i`'s fragmented MP4 is written to (0-2 are stdio). */
export const outputFd = (i: number) => 3 + i;

const INPUT_TIMEOUT_S = 2;

/**
 * FFmpeg's arguments for one run: the SDP arrives on stdin, the composite is encoded once per
 * rendition (H.264 + AAC), and each rendition is written as fragmented MP4 (CMAF-style: an init
 * section, then a moof + mdat per fragment of at most `partSeconds`, a new one at each keyframe) to
 * its own pipe, flushed as each fragment is done. The recorder packages the fragments into LL-HLS
 * parts and segments and writes the top rendition's into the recording.
 */
export function ffmpegArgs(inputs: CompositeInputs, renditions: Rendition[], out: RunOutputs): string[] {
  const args = [
    '-hide_banner', '-nostdin', '-loglevel', 'warning', '-y',
    // listen_timeout: with no RTP for this long FFmpeg ends its input and exits cleanly. Its first
    // SIGINT is only seen between packets, so this bounds a stop after the media is gone, and a
    // stalled stage becomes a restart instead of a hang.
    '-protocol_whitelist', 'pipe,udp,rtp', '-buffer_size', '2097152', '-listen_timeout', String(INPUT_TIMEOUT_S),
    // Start as soon as every stream's codec is known from the SDP and its first packets, without
    // reading frames to guess frame rates (the composite is re-timed to FPS anyway): a new
    // layout's run starts producing sooner.
    '-probesize', '32', '-analyzeduration', '0', '-fpsprobesize', '0',
    '-f', 'sdp', '-i', 'pipe:0',
    '-filter_complex', compositeFilter(inputs, renditions),
  ];
  renditions.forEach((r, i) => {
    args.push(
      '-map', `[v${i}]`, '-map', `[a${i}]`,
      '-c:v', 'libx264', '-preset', 'superfast', '-tune', 'zerolatency', '-profile:v', 'main', '-level:v', '3.1',
      '-b:v', `${r.videoKbps}k`, '-maxrate', `${r.videoKbps}k`, '-bufsize', `${r.videoKbps * 2}k`, '-r', String(FPS),
      // A keyframe at every segment boundary: segments start cleanly and stay at segmentSeconds.
      '-force_key_frames', `expr:gte(t,n_forced*${out.segmentSeconds})`, '-sc_threshold', '0',
      '-c:a', 'aac', '-b:a', `${r.audioKbps}k`, '-ar', '48000', '-ac', '2',
      '-f', 'mp4', '-movflags', 'empty_moov+default_base_moof+frag_keyframe', '-frag_duration', String(Math.round(out.partSeconds * 1e6)),
      '-flush_packets', '1', `pipe:${outputFd(i)}`,
    );
  });
  return args;
}
