import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createInterface } from 'node:readline';
import type { RtpParameters } from '@onstage/protocol';

/** A free even UDP port whose odd neighbour (FFmpeg's RTCP port) is free too. */
export async function freePortPair(): Promise<number> {
  for (;;) {
    const a = createSocket('udp4');
    await new Promise<void>((r) => a.bind(0, '127.0.0.1', r));
    const port = a.address().port;
    a.close();
    if (port % 2 !== 0 || port > 65000) continue;
    const b = createSocket('udp4');
    const ok = await new Promise<boolean>((r) => {
      b.once('error', () => r(false));
      b.bind(port + 1, '127.0.0.1', () => r(true));
    });
    b.close();
    if (ok) return port;
  }
}

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
