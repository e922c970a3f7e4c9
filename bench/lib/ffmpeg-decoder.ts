import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { RtpParameters } from '@onstage/protocol';

/**
 * A real decoder on one viewer: FFmpeg receives the forwarded VP8 as plain RTP and decodes every
 * frame; `frames()` says how many so far (FFmpeg reports twice a second).
 */
export function startDecoder(port: number, rtp: RtpParameters): { frames(): number; close(): void } {
  const codec = rtp.codecs[0]!;
  const sdp = [
    'v=0', 'o=- 0 0 IN IP4 127.0.0.1', 's=bench', 'c=IN IP4 127.0.0.1', 't=0 0',
    `m=video ${port} RTP/AVP ${codec.payloadType}`,
    `a=rtpmap:${codec.payloadType} VP8/${codec.clockRate}`, 'a=recvonly', '',
  ].join('\n');
  const proc: ChildProcess = spawn(
    process.env['FFMPEG_PATH'] ?? 'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-protocol_whitelist', 'pipe,udp,rtp', '-f', 'sdp', '-i', 'pipe:0',
      '-f', 'null', '-', '-progress', 'pipe:1', '-stats_period', '0.5'],
    { stdio: ['pipe', 'pipe', 'ignore'] },
  );
  proc.stdin!.end(sdp);
  let frames = 0;
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    const m = /^frame=(\d+)/.exec(line);
    if (m) frames = Number(m[1]);
  });
  return { frames: () => frames, close: () => proc.kill('SIGKILL') };
}
