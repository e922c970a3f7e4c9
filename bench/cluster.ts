/**
 * Cluster benchmark (`npm run bench:cluster`): what a room's audience on an edge node costs,
 * against the same audience on a single node, measured in the same run.
 *
 * Three real Onstage nodes in this process (A, B, C; one mediasoup worker each), joined through a
 * real redis-server on loopback; their links and pipes are real sockets. The host is FFmpeg
 * (VP8 720p30 ~1.5 Mbps + opus 64 kbps, plain RTP) on A, which is the room's origin. A viewer is a
 * video + audio consumer on an SRTP plain transport to a counting UDP sink, made by the same room
 * code a browser's requests reach (server/src/loadtest). Each round, on fresh nodes:
 *   1. single node: N/2 then N viewers on A; the slope of A's worker CPU is one viewer's cost;
 *   2. edges: the viewers leave; one viewer on B, then one on C: A's worker CPU with 0, 1 and 2
 *      edges is what an edge costs the origin, and A's pipe bytes per edge are the pipe's bandwidth;
 *   3. edge viewers: N/2 then N viewers on B; the slope of B's worker CPU is one viewer's cost on an
 *      edge, and A's CPU shows whether the origin pays for them (it should not). One real WebRTC
 *      viewer (libwebrtc) on B decodes the show meanwhile.
 * Even rounds do 2 and 3 before 1, so that the order does not favour either side.
 * Worker CPU per measurement is the median of three windows, read from the scheduler's ns clock. The workers run on CPU 1; this
 * process, FFmpeg, Redis and the sink on CPU 0 (`npm run bench:cluster` pins them).
 *
 * Writes bench/results/cluster.json. Options: --rounds N (4), --viewers N (200), --window-ms N (2000), --out DIR.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { OnstageServer } from '../server/src/app.ts';
import { joinInProcessViewer, joinPlainHost, joinSyntheticViewer } from '../server/src/loadtest/synthetic-peers.ts';
import type { Room } from '../server/src/rooms/room.ts';
import type { ServedRoom } from '../server/src/rooms/room-registry.ts';
import { eventually } from '../test/helpers/browser.ts';
import { metricValue } from '../test/helpers/metrics.ts';
import { startRedis } from '../test/helpers/redis.ts';
import { startServer } from '../test/helpers/server.ts';
import { SOURCE_RTP, startSource } from './lib/ffmpeg-source.ts';
import { cpuSecondsPrecise, pin, sleep } from './lib/proc.ts';
import { median, within } from './lib/stats.ts';
import { UdpSink } from './lib/udp-sink.ts';
import { startWebRtcViewer, type WebRtcViewer } from './lib/webrtc-viewer.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '4' },
    viewers: { type: 'string', default: '200' },
    'window-ms': { type: 'string', default: '2000' },
    out: { type: 'string', default: new URL('./results/', import.meta.url).pathname },
  },
});
const ROUNDS = Number(values.rounds);
const VIEWERS = Number(values.viewers);
const WINDOW_MS = Number(values['window-ms']);
const WINDOWS = 3;
// New video consumers forward nothing until the next keyframe (FFmpeg sends one every 2 s).
const SETTLE_MS = 2500;
const ROOM = 'bench';
const IP = '127.0.0.1';
const RESULTS = values.out.endsWith('/') ? values.out : `${values.out}/`;

const started = Date.now();
const say = (line: string) => process.stdout.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${line}\n`);
const round1 = (x: number) => Math.round(x * 10) / 10;
const round3 = (x: number) => Math.round(x * 1000) / 1000;

type Nodes = { a: OnstageServer; b: OnstageServer; c: OnstageServer };
type NodeName = keyof Nodes;
/** One measurement: each node's worker CPU (% of a core, median of the windows) and what flowed meanwhile. */
type Sample = {
  cpu: Record<NodeName, number>;
  /** Sink datagrams over (producer packets × viewers): what the viewers were sent of the show. */
  deliveryRatio: number;
  /** Bytes per second A sent down its pipe to each edge, and that the host's producers took in. */
  pipeBytesPerSec: { b: number; c: number };
  producerBytesPerSec: number;
  decodedFps?: number;
};
type Round = {
  round: number;
  single: { viewers: number; sample: Sample }[];
  edges: { edges: number; sample: Sample }[];
  onEdge: { viewers: number; sample: Sample }[];
  /** % of a core per viewer: on the single node, and on the edge. */
  perViewerSingle: number;
  perViewerEdge: number;
  /** % of a core the origin's worker spends per edge node (median of the first and the second edge). */
  perEdgeAtOrigin: number;
  /** How much A's worker CPU rose while B went from N/2 to N viewers. */
  originRiseWithEdgeViewers: number;
};

async function startNodes(redisUrl: string): Promise<Nodes> {
  const node = (id: string) =>
    startServer({ NODE_ID: id, REDIS_URL: redisUrl, HOST: IP, VIEWERS_PER_ROUTER: '100000', CLUSTER_HEARTBEAT_MS: '500', CLUSTER_NODE_TTL_MS: '3000', LOG_LEVEL: 'error' });
  const [a, b, c] = [await node('a'), await node('b'), await node('c')];
  for (const n of [a, b, c]) {
    await eventually(async () => ((await (await fetch(`${n.url}/api/cluster`)).json()) as { nodes: unknown[] }).nodes.length, (k) => k === 3, 10_000);
    for (const pid of n.workerPids()) pin(pid, '1');
  }
  return { a, b, c };
}

async function runRound(round: number): Promise<Round> {
  const redis = await startRedis();
  const nodes = await startNodes(redis.url);
  const sink = new UdpSink();
  const source: { kill(signal: NodeJS.Signals): void }[] = [];
  let webrtc: WebRtcViewer | undefined;
  try {
    const origin: Room = await nodes.a.rooms.originRoom(ROOM);
    const host = await joinPlainHost(origin, 'bench-host', [{ kind: 'video', rtpParameters: SOURCE_RTP.video }, { kind: 'audio', rtpParameters: SOURCE_RTP.audio }], IP);
    const portOf = (kind: 'video' | 'audio') => host.ports.find((p) => p.kind === kind)!;
    source.push(startSource(portOf('video'), portOf('audio')));
    const producer = async () => (await host.stats()).reduce((n, s) => ({ packets: n.packets + s.packets, bytes: n.bytes + s.bytes }), { packets: 0, bytes: 0 });
    await eventually(producer, (p) => p.packets > 100, 10_000);

    const viewers = new Map<ServedRoom, { leave(): void }[]>();
    const viewerCount = () => [...viewers.values()].reduce((n, v) => n + v.length, 0);
    const addViewers = async (room: ServedRoom, upTo: number) => {
      const here = viewers.get(room) ?? [];
      viewers.set(room, here);
      while (here.length < upTo) {
        const port = await within(20_000, 'the sink opening a socket', sink.open());
        here.push(await within(20_000, `adding viewer ${here.length + 1}`, joinSyntheticViewer(room, `viewer-${round}-${viewerCount()}`, { ip: IP, port }, IP)));
      }
    };
    const pids = { a: nodes.a.workerPids()[0]!, b: nodes.b.workerPids()[0]!, c: nodes.c.workerPids()[0]! };
    const pipeBytes = async () => ({
      b: await metricValue(nodes.a.url, 'onstage_cluster_pipe_bytes_out_total{edge="b"}'),
      c: await metricValue(nodes.a.url, 'onstage_cluster_pipe_bytes_out_total{edge="c"}'),
    });
    const measure = async (): Promise<Sample> => {
      await sleep(SETTLE_MS);
      const read = async () => ({
        cpu: { a: cpuSecondsPrecise(pids.a), b: cpuSecondsPrecise(pids.b), c: cpuSecondsPrecise(pids.c) },
        sink: await sink.count(),
        producer: await producer(),
        pipe: await pipeBytes(),
        frames: webrtc ? await webrtc.framesDecoded() : 0,
        at: performance.now(),
      });
      const reads = [await read()];
      for (let w = 0; w < WINDOWS; w++) {
        await sleep(WINDOW_MS);
        reads.push(await read());
      }
      const [first, last] = [reads[0]!, reads.at(-1)!];
      const seconds = (last.at - first.at) / 1000;
      const cpuOf = (n: NodeName) => round3(median(reads.slice(1).map((r, w) => (100 * (r.cpu[n] - reads[w]!.cpu[n])) / ((r.at - reads[w]!.at) / 1000))));
      const count = viewerCount();
      return {
        cpu: { a: cpuOf('a'), b: cpuOf('b'), c: cpuOf('c') },
        deliveryRatio: count ? round3((last.sink - first.sink) / ((last.producer.packets - first.producer.packets) * count)) : 0,
        pipeBytesPerSec: { b: Math.round((last.pipe.b - first.pipe.b) / seconds), c: Math.round((last.pipe.c - first.pipe.c) / seconds) },
        producerBytesPerSec: Math.round((last.producer.bytes - first.producer.bytes) / seconds),
        ...(webrtc ? { decodedFps: round1((last.frames - first.frames) / seconds) } : {}),
      };
    };
    const show = (what: string, s: Sample) =>
      say(
        `round ${round} ${what.padEnd(22)} worker CPU A ${s.cpu.a}% B ${s.cpu.b}% C ${s.cpu.c}%, delivered ${s.deliveryRatio}, ` +
          `pipe to B ${s.pipeBytesPerSec.b} B/s, to C ${s.pipeBytesPerSec.c} B/s (host sends ${s.producerBytesPerSec} B/s)` +
          (s.decodedFps !== undefined ? `, WebRTC viewer on B decodes ${s.decodedFps} fps` : ''),
      );

    const half = Math.round(VIEWERS / 2);
    const leaveAll = (room: ServedRoom, keep: number) => {
      const here = viewers.get(room) ?? [];
      for (const v of here.splice(keep)) v.leave();
    };
    const single: Round['single'] = [];
    const onSingleNode = async () => {
      for (const n of [half, VIEWERS]) {
        await addViewers(origin, n);
        single.push({ viewers: n, sample: await measure() });
        show(`${n} viewers on A`, single.at(-1)!.sample);
      }
      leaveAll(origin, 0);
    };
    const edges: Round['edges'] = [];
    const onEdge: Round['onEdge'] = [];
    const onEdges = async () => {
      const [edgeB, edgeC] = [await nodes.b.rooms.open(ROOM), await nodes.c.rooms.open(ROOM)];
      if (edgeB.kind !== 'edge' || edgeC.kind !== 'edge') throw new Error('B and C should serve the room as edges of A');
      edges.push({ edges: 0, sample: await measure() });
      show('0 edges', edges[0]!.sample);
      for (const [i, room] of [edgeB, edgeC].entries()) {
        await addViewers(room, 1);
        edges.push({ edges: i + 1, sample: await measure() });
        show(`${i + 1} edge${i ? 's' : ''} (1 viewer each)`, edges.at(-1)!.sample);
      }
      webrtc = await within(20_000, 'the WebRTC viewer on B', joinInProcessViewer(edgeB, `webrtc-${round}`).then(startWebRtcViewer));
      for (const n of [half, VIEWERS]) {
        await addViewers(edgeB, n);
        onEdge.push({ viewers: n, sample: await measure() });
        show(`${n} viewers on B`, onEdge.at(-1)!.sample);
      }
      leaveAll(edgeB, 1);
    };
    // Odd rounds measure the single node first, even rounds the edges first: what comes first
    // (a fresh worker, say) must not decide the comparison.
    if (round % 2 === 1) {
      await onSingleNode();
      await onEdges();
    } else {
      await onEdges();
      await onSingleNode();
    }

    const slope = (pts: { viewers: number; sample: Sample }[], node: NodeName) => (pts[1]!.sample.cpu[node] - pts[0]!.sample.cpu[node]) / (pts[1]!.viewers - pts[0]!.viewers);
    const [e0, e1, e2] = edges.map((e) => e.sample.cpu.a) as [number, number, number];
    return {
      round,
      single,
      edges,
      onEdge,
      perViewerSingle: round3(slope(single, 'a')),
      perViewerEdge: round3(slope(onEdge, 'b')),
      perEdgeAtOrigin: round3(median([e1 - e0, e2 - e1])),
      originRiseWithEdgeViewers: round1(onEdge[1]!.sample.cpu.a - onEdge[0]!.sample.cpu.a),
    };
  } finally {
    webrtc?.close();
    for (const s of source) s.kill('SIGINT');
    sink.close();
    await Promise.all(Object.values(nodes).map((n) => n.close()));
    redis.stop();
  }
}

say(`cluster benchmark: ${ROUNDS} rounds, up to ${VIEWERS} viewers per node, ${WINDOWS} windows of ${WINDOW_MS} ms per measurement; workers on CPU 1, load on CPU 0`);
const rounds: Round[] = [];
for (let r = 1; r <= ROUNDS; r++) rounds.push(await runRound(r));

const med = (pick: (r: Round) => number) => round3(median(rounds.map(pick)));
const summary = {
  perViewerSingleMedian: med((r) => r.perViewerSingle),
  perViewerEdgeMedian: med((r) => r.perViewerEdge),
  /** Edge over single node, paired within each round (the machine's speed drifts between rounds). */
  edgeToSingleRatioMedian: med((r) => r.perViewerEdge / r.perViewerSingle),
  perEdgeAtOriginMedian: med((r) => r.perEdgeAtOrigin),
  /** What an edge costs the origin, in viewers' worth of the origin's CPU. */
  edgeInViewersAtOriginMedian: med((r) => r.perEdgeAtOrigin / r.perViewerSingle),
  originRiseWithEdgeViewersMedian: med((r) => r.originRiseWithEdgeViewers),
  pipeBytesPerSecPerEdgeMedian: med((r) => r.edges[2]!.sample.pipeBytesPerSec.b),
  producerBytesPerSecMedian: med((r) => r.edges[2]!.sample.producerBytesPerSec),
  webrtcViewerOnEdgeFpsMedian: med((r) => r.onEdge.at(-1)!.sample.decodedFps ?? 0),
};
const result = {
  command: `npm run bench:cluster -- --rounds ${ROUNDS} --viewers ${VIEWERS}`,
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim() },
  shape: 'three nodes (1 worker each) in one process, Redis on loopback; host VP8 1280x720@30 ~1.5 Mbps + opus 64 kbps on A; 1 viewer = video + audio consumer, SRTP plain transport',
  summary,
  rounds,
};
mkdirSync(RESULTS, { recursive: true });
writeFileSync(`${RESULTS}cluster.json`, `${JSON.stringify(result, null, 2)}\n`);

say('');
say(`worker CPU per viewer (% of a core, median of ${ROUNDS} rounds): single node ${summary.perViewerSingleMedian}, edge ${summary.perViewerEdgeMedian}; edge / single paired per round ${summary.edgeToSingleRatioMedian}`);
say(`an edge costs the origin's worker ${summary.perEdgeAtOriginMedian}% of a core = ${summary.edgeInViewersAtOriginMedian} viewers' worth; the origin's CPU rose ${summary.originRiseWithEdgeViewersMedian} points while B went from ${Math.round(VIEWERS / 2)} to ${VIEWERS} viewers`);
say(`pipe bandwidth per edge ${summary.pipeBytesPerSecPerEdgeMedian} B/s (${round3((summary.pipeBytesPerSecPerEdgeMedian * 8) / 1e6)} Mbit/s) for a host sending ${summary.producerBytesPerSecMedian} B/s; WebRTC viewer on the edge decoded ${summary.webrtcViewerOnEdgeFpsMedian} fps`);
say(`wrote ${RESULTS}cluster.json`);
// Exit at once: libwebrtc's threads (@roamhq/wrtc) can crash a process that winds down by itself.
process.exit(0);
