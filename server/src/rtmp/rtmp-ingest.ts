import { randomInt } from 'node:crypto';
import type AVPacket from 'node-media-server/src/core/avpacket.js';
import Flv from 'node-media-server/src/protocol/flv.js';
import { MediaProcess } from '@onstage/recorder';
import type { IngestStatus, RtpParameters } from '@onstage/protocol';
import type { Logger } from '../logger.ts';
import type { Connection, Participant } from '../rooms/participant.ts';
import type { Room } from '../rooms/room.ts';
import { readFlvVideoTag } from './flv-video.ts';

const FLV_AUDIO = 8;
const FLV_VIDEO = 9;
/** What is looked at before deciding how to forward the video: about 2/3 s at 30 fps, at most 3 s or 8 MB. */
const PROBE_VIDEO_FRAMES = 20;
const PROBE_MAX_MS = 3000;
const PROBE_MAX_BYTES = 8 * 1024 * 1024;
/** FFmpeg's stdin may fall this far behind before the ingest gives up (the encoder sends in real time). */
const MAX_QUEUED_BYTES = 16 * 1024 * 1024;
/** The H.264 profiles rooms take as they are (server/src/media/codecs.ts): constrained baseline, baseline, main, high. */
const FORWARDED_PROFILES = new Set(['42', '4d', '64']);
const VIDEO_PT = 96;
const AUDIO_PT = 111;

/** How the encoder's video reaches the room. */
export type VideoRoute = { mode: 'forward'; profileLevelId: string } | { mode: 'transcode'; reason: string } | { mode: 'none' };

/** Who the encoder publishes as: the room's host, through a connection of its own. */
export type IngestHost = { room: Room; participant: Participant; connection: Connection };

/**
 * One RTMP encoder's show going into a room. The first packets are held while the stream is
 * looked at: H.264 without B-frames in a profile rooms take is forwarded as it is (no
 * re-encoding); anything else (B-frames, which WebRTC players cannot show; other codecs or
 * profiles) is transcoded to H.264 constrained baseline. Audio (AAC) becomes Opus. FFmpeg reads
 * the FLV from stdin and sends RTP to the host's plain transports; the packets held so far go in first.
 */
export class RtmpIngest {
  readonly #host: Promise<IngestHost>;
  readonly #ffmpegPath: string;
  readonly #logger: Logger;
  readonly #held: Buffer[] = [];
  #heldBytes = 0;
  #state: 'probing' | 'starting' | 'running' | 'ended' = 'probing';
  #ffmpeg: MediaProcess | undefined;
  #firstDts: number | undefined;
  #videoFrames = 0;
  #profileLevelId: string | undefined;
  #bFrames = false;
  #otherVideoCodec: number | undefined;
  #hasAudio = false;
  #route: VideoRoute | undefined;

  constructor(host: Promise<IngestHost>, ffmpegPath: string, logger: Logger) {
    this.#host = host;
    this.#ffmpegPath = ffmpegPath;
    this.#logger = logger;
    // A host that could not join ends the ingest (the listener closes the connection).
    host.catch(() => this.#stop());
  }

  /** How the video comes in, once decided (for GET /api/live). */
  status(): IngestStatus | undefined {
    const route = this.#route;
    if (!route) return undefined;
    return { protocol: 'rtmp', video: route.mode, ...(route.mode === 'transcode' ? { reason: route.reason } : {}) };
  }

  /** One packet from the encoder (copied at once: the protocol layer reuses its buffer). */
  push(packet: AVPacket): void {
    if (this.#state === 'ended') return;
    const tag = Flv.createMessage(packet);
    if (this.#state === 'running') {
      const input = this.#ffmpeg?.input;
      if (!input || input.writableLength > MAX_QUEUED_BYTES) {
        this.#logger.error({ queued: input?.writableLength }, 'FFmpeg does not keep up with the encoder; ending the ingest');
        this.#stop();
        return;
      }
      input.write(tag);
      return;
    }
    this.#held.push(tag);
    this.#heldBytes += tag.length;
    if (this.#state === 'probing') {
      this.#observe(packet);
      this.#firstDts ??= packet.dts;
      const enough = this.#videoFrames >= PROBE_VIDEO_FRAMES || packet.dts - this.#firstDts > PROBE_MAX_MS || this.#heldBytes > PROBE_MAX_BYTES;
      if (enough) void this.#start();
    }
  }

  /** The encoder is gone: `unpublished` (it said so: the show ends) or `dropped` (the host keeps the grace period). */
  end(how: 'unpublished' | 'dropped'): void {
    if (this.#state === 'ended') return;
    this.#stop();
    void this.#host.then(
      ({ room, participant, connection }) => {
        if (how === 'unpublished') room.leave(participant);
        else room.disconnect(participant, connection);
      },
      () => undefined,
    );
    this.#logger.info({ how }, 'RTMP ingest ended');
  }

  #observe(packet: AVPacket): void {
    if (packet.codec_type === FLV_AUDIO) this.#hasAudio = true;
    if (packet.codec_type !== FLV_VIDEO) return;
    const tag = readFlvVideoTag(packet.data.subarray(0, packet.size));
    if (tag.kind === 'avc-config') this.#profileLevelId = tag.profileLevelId;
    else if (tag.kind === 'avc-frame') {
      this.#videoFrames++;
      if (tag.compositionTimeMs !== 0) this.#bFrames = true;
    } else {
      this.#otherVideoCodec = tag.codecId;
      this.#videoFrames++;
    }
  }

  #decide(): VideoRoute {
    if (this.#videoFrames === 0) return { mode: 'none' };
    if (this.#otherVideoCodec !== undefined) return { mode: 'transcode', reason: `the video is not H.264 (FLV codec ${this.#otherVideoCodec})` };
    if (this.#bFrames) return { mode: 'transcode', reason: 'the video has B-frames, which WebRTC players cannot show' };
    const profile = this.#profileLevelId;
    if (!profile) return { mode: 'transcode', reason: 'no H.264 sequence header came first' };
    if (!FORWARDED_PROFILES.has(profile.slice(0, 2))) return { mode: 'transcode', reason: `H.264 profile ${profile} is not one rooms take` };
    return { mode: 'forward', profileLevelId: profile };
  }

  async #start(): Promise<void> {
    this.#state = 'starting';
    const route = this.#decide();
    this.#route = route;
    let host: IngestHost;
    try {
      host = await this.#host;
    } catch {
      return;
    }
    const { room, participant } = host;
    try {
      const outputs: string[] = [];
      const produce: (() => Promise<unknown>)[] = [];
      const plain = () => room.createPlainTransport(participant, { direction: 'send', listenIp: '127.0.0.1', comedia: true, rtcpMux: false, srtp: false });
      if (route.mode !== 'none') {
        const t = await plain();
        const ssrc = randomInt(1, 2 ** 31);
        const profileLevelId = route.mode === 'forward' ? route.profileLevelId : '42e01f';
        const video = route.mode === 'forward'
          ? ['-c:v', 'copy', '-bsf:v', 'h264_mp4toannexb']
          : ['-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-profile:v', 'baseline', '-bf', '0', '-g', '60', '-pix_fmt', 'yuv420p', '-b:v', '2500k', '-maxrate', '2500k', '-bufsize', '2500k'];
        outputs.push('-map', '0:v:0', ...video, '-payload_type', String(VIDEO_PT), '-ssrc', String(ssrc), '-f', 'rtp', `rtp://127.0.0.1:${t.port}?rtcpport=${t.rtcpPort ?? t.port}&pkt_size=1200`);
        const rtp: RtpParameters = {
          codecs: [{ mimeType: 'video/H264', payloadType: VIDEO_PT, clockRate: 90000, parameters: { 'packetization-mode': 1, 'profile-level-id': profileLevelId, 'level-asymmetry-allowed': 1 } }],
          encodings: [{ ssrc }],
        };
        produce.push(() => room.produce(participant, t.transportId, 'video', rtp));
      }
      if (this.#hasAudio) {
        const t = await plain();
        const ssrc = randomInt(1, 2 ** 31);
        outputs.push('-map', '0:a:0', '-c:a', 'libopus', '-ar', '48000', '-ac', '2', '-b:a', '128k', '-payload_type', String(AUDIO_PT), '-ssrc', String(ssrc), '-f', 'rtp', `rtp://127.0.0.1:${t.port}?rtcpport=${t.rtcpPort ?? t.port}&pkt_size=1200`);
        const rtp: RtpParameters = {
          codecs: [{ mimeType: 'audio/opus', payloadType: AUDIO_PT, clockRate: 48000, channels: 2, parameters: { 'sprop-stereo': 1 } }],
          encodings: [{ ssrc }],
        };
        produce.push(() => room.produce(participant, t.transportId, 'audio', rtp));
      }
      if (outputs.length === 0) throw new Error('the encoder sends neither video nor audio');
      for (const p of produce) await p();
      if (this.#state !== 'starting') return;
      this.#ffmpeg = new MediaProcess(
        this.#ffmpegPath,
        ['-hide_banner', '-loglevel', 'warning', '-fflags', 'nobuffer', '-probesize', '65536', '-analyzeduration', '500000', '-f', 'flv', '-i', 'pipe:0', ...outputs],
        { cwd: process.cwd(), stdin: { stream: true }, onStderr: (line) => this.#logger.debug({ ffmpeg: line }, 'ffmpeg') },
      );
      void this.#ffmpeg.exited.then((exit) => {
        if (this.#state === 'ended') return;
        this.#logger.error({ code: exit.code, signal: exit.signal, stderr: exit.stderrTail.slice(-5) }, 'RTMP ingest FFmpeg exited');
        this.end('dropped');
      });
      const input = this.#ffmpeg.input!;
      input.write(Flv.createHeader(this.#hasAudio, route.mode !== 'none'));
      for (const tag of this.#held.splice(0)) input.write(tag);
      this.#heldBytes = 0;
      this.#state = 'running';
      this.#logger.info({ video: route.mode, ...(route.mode === 'forward' ? { profileLevelId: route.profileLevelId } : {}), ...(route.mode === 'transcode' ? { reason: route.reason } : {}), audio: this.#hasAudio ? 'AAC → Opus' : 'none', ffmpegPid: this.#ffmpeg.pid }, 'RTMP ingest running');
    } catch (err) {
      this.#logger.error({ err }, 'RTMP ingest could not start');
      this.end('unpublished');
    }
  }

  #stop(): void {
    this.#state = 'ended';
    this.#held.length = 0;
    this.#heldBytes = 0;
    const ffmpeg = this.#ffmpeg;
    if (ffmpeg) {
      ffmpeg.input?.end();
      void ffmpeg.stop();
    }
  }
}
