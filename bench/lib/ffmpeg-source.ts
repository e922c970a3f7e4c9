import { spawn, type ChildProcess } from 'node:child_process';

export const VIDEO = { ssrc: 11111111, payloadType: 101 };
export const AUDIO = { ssrc: 22222222, payloadType: 100 };

/** RTP parameters matching what the FFmpeg source sends. */
export const SOURCE_RTP = {
  video: { codecs: [{ mimeType: 'video/VP8', payloadType: VIDEO.payloadType, clockRate: 90000 }], encodings: [{ ssrc: VIDEO.ssrc }] },
  audio: {
    codecs: [{ mimeType: 'audio/opus', payloadType: AUDIO.payloadType, clockRate: 48000, channels: 2, parameters: { 'sprop-stereo': 1 } }],
    encodings: [{ ssrc: AUDIO.ssrc }],
  },
};

export type Ports = { port: number; rtcpPort: number };

/**
 * The host stream: FFmpeg's test pattern as VP8 720p30 at about 1.5 Mbps plus a 64 kbps opus tone,
 * as plain RTP to loopback. Runs until stopped.
 */
export function startSource(video: Ports, audio: Ports): ChildProcess {
  const args = [
    '-hide_banner', '-loglevel', 'error', '-re',
    '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-map', '0:v', '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '1500k', '-minrate', '1500k',
    '-maxrate', '1500k', '-bufsize', '1500k', '-g', '60', '-pix_fmt', 'yuv420p',
    '-payload_type', String(VIDEO.payloadType), '-ssrc', String(VIDEO.ssrc),
    '-f', 'rtp', `rtp://127.0.0.1:${video.port}?rtcpport=${video.rtcpPort}&pkt_size=1200`,
    '-map', '1:a', '-c:a', 'libopus', '-b:a', '64k', '-ac', '2', '-ar', '48000',
    '-payload_type', String(AUDIO.payloadType), '-ssrc', String(AUDIO.ssrc),
    '-f', 'rtp', `rtp://127.0.0.1:${audio.port}?rtcpport=${audio.rtcpPort}&pkt_size=1200`,
  ];
  return spawn(process.env['FFMPEG_PATH'] ?? 'ffmpeg', args, { stdio: ['ignore', 'ignore', 'inherit'] });
}
