/** The parts of node-media-server's RTMP protocol layer that Onstage uses (the package ships JavaScript only). */

declare module 'node-media-server/src/core/avpacket.js' {
  /** One FLV tag's worth of media: `codec_type` 8 audio, 9 video, 18 script; `data` holds the tag body (valid until the next packet). */
  export default class AVPacket {
    codec_id: number;
    codec_type: number;
    flags: number;
    pts: number;
    dts: number;
    size: number;
    data: Buffer;
  }
}

declare module 'node-media-server/src/protocol/rtmp.js' {
  import type AVPacket from 'node-media-server/src/core/avpacket.js';
  /** One RTMP connection's protocol state: bytes in through `parserData`, callbacks out. */
  export default class Rtmp {
    onConnectCallback: (req: { app: string; name: string; host: string; query: Record<string, unknown> }) => void;
    onPlayCallback: () => void;
    onPushCallback: () => void;
    onOutputCallback: (buffer: Buffer) => void;
    onPacketCallback: (packet: AVPacket) => void;
    onDeleteStream: (message: unknown) => void;
    /** Parses received bytes; returns an error message, or null. */
    parserData(buffer: Buffer): string | null;
  }
}

declare module 'node-media-server/src/protocol/flv.js' {
  import type AVPacket from 'node-media-server/src/core/avpacket.js';
  export default class Flv {
    static createHeader(hasAudio: boolean, hasVideo: boolean): Buffer;
    /** The packet as an FLV tag (header, body, previous tag size), copied out of the parser's buffer. */
    static createMessage(packet: AVPacket): Buffer;
  }
}

declare module 'node-media-server/src/core/logger.js' {
  const logger: { level: string; log(message: string, level?: string): void };
  export default logger;
}
