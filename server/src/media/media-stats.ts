import type { types } from 'mediasoup';
import type { WorkerPool } from './worker-pool.ts';

/** What the node's media did lately, for the metrics (sampled every few seconds). */
export type MediaSample = {
  /** Bits per second over all transports, into and out of this node. */
  bitrateIn: number;
  bitrateOut: number;
  /** Mean RTP packet loss over the transports that report it (0-1): from senders, and to receivers. */
  lossIn: number;
  lossOut: number;
  /** Mean round-trip time to the senders (producers that report one), seconds. */
  rttSeconds: number | undefined;
};

/** Counts that only grow, as the senders report them (NACKs and PLIs the server sent them, packets it lost from them). */
export type MediaCount = 'nacks' | 'plis' | 'packetsLost';

/** Where the stats go as they are learnt. */
export type MediaStatsSink = {
  /** A WebRTC transport went from created to DTLS connected in this long. */
  connected(seconds: number): void;
  counted(kind: MediaCount, n: number): void;
};

const SAMPLE_MS = 5000;
/** Stats requests in flight at once: a node with thousands of transports never floods its workers. */
const CONCURRENCY = 16;

/**
 * Follows every transport and producer on this node's workers (mediasoup's observer events) and
 * samples their stats every 5 s: bitrate in and out, loss, RTT, and the senders' NACK, PLI and
 * lost-packet counts. One stats request per transport and producer per sample, a few at a time.
 * Also times each WebRTC transport from its creation to DTLS connected (a participant's media path
 * coming up after their join).
 */
export class MediaStats {
  readonly #transports = new Set<types.Transport>();
  readonly #producers = new Map<types.Producer, { nacks: number; plis: number; packetsLost: number }>();
  readonly #timer: NodeJS.Timeout;
  #sample: MediaSample = { bitrateIn: 0, bitrateOut: 0, lossIn: 0, lossOut: 0, rttSeconds: undefined };
  #sampling = false;

  readonly #sink: MediaStatsSink;

  constructor(pool: WorkerPool, sink: MediaStatsSink) {
    this.#sink = sink;
    const follow = (worker: types.Worker) =>
      worker.observer.on('newrouter', (router) =>
        router.observer.on('newtransport', (transport) => {
          this.#transports.add(transport);
          transport.observer.once('close', () => this.#transports.delete(transport));
          transport.observer.on('newproducer', (producer) => {
            this.#producers.set(producer, { nacks: 0, plis: 0, packetsLost: 0 });
            producer.observer.once('close', () => this.#producers.delete(producer));
          });
          if (transport.type !== 'webrtc') return;
          const created = performance.now();
          (transport as types.WebRtcTransport).observer.on('dtlsstatechange', (state) => {
            if (state === 'connected') sink.connected((performance.now() - created) / 1000);
          });
        }),
      );
    for (const w of pool.workers()) follow(w.worker);
    pool.on('workerStarted', (w) => follow(w.worker));
    this.#timer = setInterval(() => void this.#take(), SAMPLE_MS).unref();
  }

  get sample(): MediaSample {
    return this.#sample;
  }

  close(): void {
    clearInterval(this.#timer);
  }

  async #take(): Promise<void> {
    if (this.#sampling) return;
    this.#sampling = true;
    try {
      const next = { bitrateIn: 0, bitrateOut: 0, lossIn: [] as number[], lossOut: [] as number[], rtt: [] as number[] };
      await eachLimited([...this.#transports], async (t) => {
        for (const s of (await t.getStats().catch(() => [])) as types.BaseTransportStats[]) {
          next.bitrateIn += s.recvBitrate;
          next.bitrateOut += s.sendBitrate;
          if (s.rtpPacketLossReceived !== undefined) next.lossIn.push(s.rtpPacketLossReceived);
          if (s.rtpPacketLossSent !== undefined) next.lossOut.push(s.rtpPacketLossSent);
        }
      });
      await eachLimited([...this.#producers.keys()], async (p) => {
        const seen = this.#producers.get(p);
        if (!seen) return;
        const total = { nacks: 0, plis: 0, packetsLost: 0 };
        for (const s of await p.getStats().catch(() => [])) {
          total.nacks += s.nackCount;
          total.plis += s.pliCount;
          total.packetsLost += s.packetsLost;
          if (s.roundTripTime) next.rtt.push(s.roundTripTime / 1000);
        }
        // Per producer, only what grew since the last sample (a layer's stats can restart).
        for (const k of ['nacks', 'plis', 'packetsLost'] as const) {
          if (total[k] > seen[k]) this.#sink.counted(k, total[k] - seen[k]);
          seen[k] = total[k];
        }
      });
      this.#sample = {
        bitrateIn: next.bitrateIn,
        bitrateOut: next.bitrateOut,
        lossIn: mean(next.lossIn) ?? 0,
        lossOut: mean(next.lossOut) ?? 0,
        rttSeconds: mean(next.rtt),
      };
    } finally {
      this.#sampling = false;
    }
  }
}

const mean = (xs: number[]) => (xs.length === 0 ? undefined : xs.reduce((a, b) => a + b, 0) / xs.length);

async function eachLimited<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, lane));
}
