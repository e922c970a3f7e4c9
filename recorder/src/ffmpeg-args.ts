import { compositeFilter, FPS, type CompositeInputs, type Rendition } from './layout.ts';

export type RunOutputs = {
  /** Directory of the live HLS, relative to FFmpeg's working directory; one subdirectory per rendition. */
  liveDir: string;
  /** The recording part this run writes (fragmented MP4, playable up to a crash), relative too. */
  recordingPart: string;
  segmentSeconds: number;
  /** Segments a live playlist lists; older ones are deleted. */
  listSize: number;
};

const INPUT_TIMEOUT_S = 2;

/** Characters that would break FFmpeg's tee and option syntax; paths are ours, so this is a bug check. */
const UNSAFE = /[:|[\]\\'";,=\s]/;

/**
 * FFmpeg's arguments for one run: the SDP arrives on stdin, the composite is encoded once per
 * rendition (H.264 + AAC), each rendition goes to its live HLS playlist, and the top one is also
 * teed into the recording part. Live playlists are appended across runs (crash restarts, layout
 * changes) with a discontinuity, and never get ENDLIST from FFmpeg: the recorder adds it when the
 * show ends, so a player never mistakes a restart for the end. The recording part is one MP4
 * fragment per keyframe (per segment), flushed as written: a killed FFmpeg loses at most the
 * fragment in progress. If the recording cannot be written (a full disk) live HLS goes on without
 * it (onfail=ignore); if HLS cannot be written FFmpeg exits and the recorder restarts it.
 */
export function ffmpegArgs(inputs: CompositeInputs, renditions: Rendition[], out: RunOutputs): string[] {
  for (const p of [out.liveDir, out.recordingPart]) if (UNSAFE.test(p)) throw new Error(`unsafe output path ${p}`);
  const hlsFlags = 'delete_segments+append_list+discont_start+omit_endlist+temp_file+program_date_time';
  const hls = (i: number) => ({
    hls_time: String(out.segmentSeconds),
    hls_list_size: String(out.listSize),
    hls_flags: hlsFlags,
    hls_segment_filename: `${out.liveDir}/v${i}/seg%06d.ts`,
  });
  const args = [
    '-hide_banner', '-nostdin', '-loglevel', 'warning', '-y',
    // listen_timeout: with no RTP for this long FFmpeg ends its input and exits cleanly. Its first
    // SIGINT is only seen between packets, so this bounds a stop after the media is gone, and a
    // stalled stage becomes a restart instead of a hang.
    '-protocol_whitelist', 'pipe,udp,rtp', '-buffer_size', '2097152', '-listen_timeout', String(INPUT_TIMEOUT_S),
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
    );
    const options = Object.entries(hls(i)).map(([k, v]) => `${k}=${v}`);
    if (i === 0) {
      const tee = `[f=hls:${options.join(':')}]${out.liveDir}/v0/index.m3u8` +
        `|[f=mp4:onfail=ignore:movflags=frag_keyframe+empty_moov+default_base_moof:flush_packets=1]${out.recordingPart}`;
      args.push('-flags', '+global_header', '-f', 'tee', tee);
    } else {
      args.push('-f', 'hls', ...Object.entries(hls(i)).flatMap(([k, v]) => [`-${k}`, v]), `${out.liveDir}/v${i}/index.m3u8`);
    }
  });
  return args;
}
