import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import Rtmp from 'node-media-server/src/protocol/rtmp.js';
import nmsLogger from 'node-media-server/src/core/logger.js';
import type { TokenClaims } from '@onstage/protocol';
import { verifyToken } from '../auth/tokens.ts';
import { OnstageError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Connection } from '../rooms/participant.ts';
import type { RoomRegistry } from '../rooms/room-registry.ts';
import { RtmpIngest, type IngestHost } from './rtmp-ingest.ts';

export type RtmpListenerOptions = {
  host: string;
  port: number;
  rooms: RoomRegistry;
  tokenSecret: string;
  ffmpegPath: string;
  logger: Logger;
  /** Encoders connected at once, at most. */
  maxConnections: number;
};

/** The RTMP application encoders publish to: rtmp://<host>:<port>/live/<stream key>. */
const APP = 'live';
/** A connection that has not started publishing by then is closed. */
const PUBLISH_TIMEOUT_MS = 10_000;

/**
 * RTMP ingest: encoders (OBS, hardware encoders, FFmpeg) publish to `rtmp://<host>:<port>/live/<stream key>`,
 * where the stream key is a host token of the room (the room and the host identity come from it).
 * node-media-server's protocol layer speaks RTMP; each publishing connection is the room's host
 * through an RtmpIngest. The encoder's clean stop (deleteStream) ends the show; a dropped
 * connection leaves the host the room's grace period to come back with the same key.
 */
export type RtmpListener = {
  url: string;
  port: number;
  /** The ingest publishing a room now, if an RTMP encoder is its host. */
  ingestOf(room: string): RtmpIngest | undefined;
  close(): Promise<void>;
};

export async function listenRtmp(options: RtmpListenerOptions): Promise<RtmpListener> {
  const { logger } = options;
  // The protocol layer logs with console.log at debug level: into our log instead.
  nmsLogger.log = (message, level = 'info') => {
    if (level === 'error' || level === 'warn') logger.debug({ rtmp: message }, 'RTMP protocol');
  };
  const sockets = new Set<Socket>();
  const publishing = new Map<string, RtmpIngest>();
  const server: Server = createServer((socket) => {
    if (sockets.size >= options.maxConnections) {
      logger.warn({ remote: socket.remoteAddress }, 'RTMP connection refused: too many encoders connected');
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    serveEncoder(socket, options, publishing);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  const url = `rtmp://${address.includes(':') ? `[${address}]` : address}:${port}/${APP}`;
  return {
    url,
    port,
    ingestOf: (room) => publishing.get(room),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function serveEncoder(socket: Socket, options: RtmpListenerOptions, publishing: Map<string, RtmpIngest>): void {
  const rtmp = new Rtmp();
  let log = options.logger.child({ remote: `${socket.remoteAddress}:${socket.remotePort}` });
  let stream: { app: string; name: string } | undefined;
  let ingest: RtmpIngest | undefined;
  let unpublished = false;
  const refuse = (why: string, details: Record<string, unknown> = {}) => {
    log.warn({ ...details, why }, 'RTMP publish refused');
    socket.destroy();
  };

  socket.setTimeout(PUBLISH_TIMEOUT_MS, () => {
    if (!ingest) refuse('no publish within the time allowed');
  });
  rtmp.onOutputCallback = (buffer) => {
    if (!socket.destroyed) socket.write(buffer);
  };
  rtmp.onConnectCallback = (req) => {
    stream = { app: req.app, name: req.name };
  };
  rtmp.onPlayCallback = () => refuse('playing over RTMP is not offered (watch over WebRTC, WHEP or HLS)');
  rtmp.onDeleteStream = () => {
    unpublished = true;
  };
  rtmp.onPushCallback = () => {
    if (stream?.app !== APP) return refuse(`publish to rtmp://<host>/${APP}/<stream key>`, { app: stream?.app });
    let claims: TokenClaims;
    try {
      claims = verifyToken(stream.name, options.tokenSecret);
    } catch (err) {
      return refuse('the stream key is not a valid host token', { code: (err as OnstageError).code });
    }
    if (claims.role !== 'host') return refuse('the stream key is not a host token', { room: claims.room });
    socket.setTimeout(0);
    log = log.child({ room: claims.room, identity: claims.sub });
    const host = joinAsHost(claims, socket, options);
    host.catch((err: unknown) => refuse(err instanceof OnstageError ? err.message : 'the room cannot take the show', { code: (err as OnstageError).code }));
    const current = new RtmpIngest(host, options.ffmpegPath, log);
    ingest = current;
    publishing.set(claims.room, current);
    socket.once('close', () => {
      if (publishing.get(claims.room) === current) publishing.delete(claims.room);
    });
    log.info('RTMP encoder publishing');
  };
  rtmp.onPacketCallback = (packet) => ingest?.push(packet);

  socket.on('data', (data: Buffer) => {
    const err = rtmp.parserData(data);
    if (err) refuse(`RTMP protocol error: ${err}`);
  });
  socket.on('error', (err) => log.debug({ err }, 'RTMP socket error'));
  socket.on('close', () => ingest?.end(unpublished ? 'unpublished' : 'dropped'));
}

/** The encoder joins the room (its origin must be this node) as its host; the room can drop it by closing the connection. */
async function joinAsHost(claims: TokenClaims, socket: Socket, options: RtmpListenerOptions): Promise<IngestHost> {
  const room = await options.rooms.originRoom(claims.room);
  const connection: Connection = {
    id: `rtmp-${randomBytes(8).toString('hex')}`,
    notify: () => undefined,
    close: () => socket.destroy(),
  };
  const { participant } = await room.enter({ identity: claims.sub, displayName: claims.name ?? claims.sub, role: 'host', connection });
  return { room, participant, connection };
}
