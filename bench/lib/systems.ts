import { randomBytes } from 'node:crypto';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import type { RtpCapabilities, RtpParameters, TransportOptions } from '@onstage/protocol';
import { ROUTER_MEDIA_CODECS } from '../../server/src/media/codecs.ts';
import { WorkerPool } from '../../server/src/media/worker-pool.ts';
import { joinInProcessViewer, joinPlainHost, joinSyntheticViewer, withoutTransportCc } from '../../server/src/loadtest/synthetic-peers.ts';
import { RoomRegistry } from '../../server/src/rooms/room-registry.ts';
import { createRootLogger } from '../../server/src/logger.ts';
import { loadConfig } from '../../server/src/config.ts';
import { SOURCE_RTP, type Ports } from './ffmpeg-source.ts';
import { startWebRtcViewer, type WebRtcViewer } from './webrtc-viewer.ts';

/** What the benchmark drives: one host stream in, N viewers (video + audio consumers, SRTP) out. */
export type System = {
  name: 'bare mediasoup' | 'Onstage';
  /** One pid per worker. */
  workerPids: number[];
  source: { video: Ports; audio: Ports };
  addViewer(sinkPort: number): Promise<void>;
  /** RTP packets the producers have received so far (video + audio). */
  producerPackets(): Promise<number>;
  /** One more viewer that is a real WebRTC peer (libwebrtc: ICE, DTLS, SRTP, decoding). */
  addWebRtcViewer(): Promise<WebRtcViewer>;
  close(): Promise<void>;
};

const IP = '127.0.0.1';

/** The same shape as Onstage, written against mediasoup directly, with the same worker binary. */
export async function startBare(): Promise<System> {
  const worker = await mediasoup.createWorker({ logLevel: 'warn' });
  const router = await worker.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS });
  const producers: types.Producer[] = [];
  const ports = {} as { video: Ports; audio: Ports };
  for (const kind of ['video', 'audio'] as const) {
    const t = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: IP }, rtcpMux: false, comedia: true });
    producers.push(await t.produce({ kind, rtpParameters: SOURCE_RTP[kind] as types.RtpParameters }));
    ports[kind] = { port: t.tuple.localPort, rtcpPort: t.rtcpTuple!.localPort };
  }
  const caps = withoutTransportCc(router.rtpCapabilities as RtpCapabilities) as types.RtpCapabilities;
  const consumers = new Map<string, types.Consumer>();
  return {
    name: 'bare mediasoup',
    workerPids: [worker.pid],
    source: ports,
    async addViewer(sinkPort) {
      const t = await router.createPlainTransport({
        listenInfo: { protocol: 'udp', ip: IP },
        rtcpMux: true,
        comedia: false,
        enableSrtp: true,
        srtpCryptoSuite: 'AES_CM_128_HMAC_SHA1_80',
      });
      await t.connect({
        ip: IP,
        port: sinkPort,
        srtpParameters: { cryptoSuite: 'AES_CM_128_HMAC_SHA1_80', keyBase64: randomBytes(30).toString('base64') },
      });
      for (const p of producers) {
        const c = await t.consume({ producerId: p.id, rtpCapabilities: caps, paused: true });
        await c.resume();
      }
    },
    async addWebRtcViewer() {
      const transports = new Map<string, types.WebRtcTransport>();
      return startWebRtcViewer({
        routerRtpCapabilities: router.rtpCapabilities as RtpCapabilities,
        producerIds: producers.map((p) => p.id),
        async createRecvTransport() {
          const t = await router.createWebRtcTransport({ listenInfos: [{ protocol: 'udp', ip: IP }] });
          transports.set(t.id, t);
          return { transportId: t.id, iceParameters: t.iceParameters, iceCandidates: t.iceCandidates, dtlsParameters: t.dtlsParameters } as TransportOptions;
        },
        connect: (id, dtlsParameters) => transports.get(id)!.connect({ dtlsParameters: dtlsParameters as types.DtlsParameters }),
        async consume(id, producerId, rtpCapabilities) {
          const c = await transports.get(id)!.consume({ producerId, rtpCapabilities: rtpCapabilities as types.RtpCapabilities, paused: true });
          consumers.set(c.id, c);
          return { consumerId: c.id, kind: c.kind, rtpParameters: c.rtpParameters as RtpParameters };
        },
        resume: (consumerId) => consumers.get(consumerId)!.resume(),
      });
    },
    async producerPackets() {
      let n = 0;
      for (const p of producers) for (const s of await p.getStats()) n += s.packetCount;
      return n;
    },
    async close() {
      worker.close();
    },
  };
}

/** Onstage's own rooms and media code: a room, a plain-RTP host, synthetic viewers. */
export async function startOnstage(workers: number, viewersPerRouter: number): Promise<System> {
  const config = loadConfig({ WORKERS: String(workers), VIEWERS_PER_ROUTER: String(viewersPerRouter), RTC_PORT: '0', LOG_LEVEL: 'warn' });
  const logger = createRootLogger(config.logLevel);
  const pool = await WorkerPool.create(
    { size: workers, listenIp: IP, announcedAddress: IP, basePort: 0, workerBin: config.workerBin, watchdogMs: config.workerWatchdogMs },
    logger,
  );
  const rooms = new RoomRegistry(pool, config, logger);
  const room = await rooms.originRoom('bench');
  const host = await joinPlainHost(
    room,
    'bench-host',
    [
      { kind: 'video', rtpParameters: SOURCE_RTP.video },
      { kind: 'audio', rtpParameters: SOURCE_RTP.audio },
    ],
    IP,
  );
  const portOf = (kind: 'video' | 'audio') => {
    const p = host.ports.find((x) => x.kind === kind)!;
    return { port: p.port, rtcpPort: p.rtcpPort };
  };
  let viewers = 0;
  return {
    name: 'Onstage',
    workerPids: pool.workers().map((w) => w.worker.pid),
    source: { video: portOf('video'), audio: portOf('audio') },
    async addViewer(sinkPort) {
      await joinSyntheticViewer(room, `viewer-${++viewers}`, { ip: IP, port: sinkPort }, IP);
    },
    async producerPackets() {
      return (await host.stats()).reduce((n, s) => n + s.packets, 0);
    },
    async addWebRtcViewer() {
      return startWebRtcViewer(await joinInProcessViewer(room, `webrtc-viewer-${++viewers}`));
    },
    async close() {
      rooms.closeAll();
      pool.close();
    },
  };
}
