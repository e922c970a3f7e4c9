import type { IncomingMessage, ServerResponse } from 'node:http';
import { RoomId, type MediaCapabilities } from '@onstage/protocol';
import { timingSafeEqual } from 'node:crypto';
import { AuthError, InvalidInputError, NotFoundError, OnstageError, toErrorBody } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { NodeInfo } from '../cluster/cluster.ts';
import type { Asset } from './demo-assets.ts';
import { issueDevToken } from './dev-tokens.ts';
import { sendFile, type FileReply } from './file-reply.ts';
import { hlsReply, liveStatus, recordingsRoute, type MediaRouteDeps } from './media-routes.ts';
import { sendForwarded, type ForwardedReply } from './node-forward.ts';
import { originProxy } from './origin-proxy.ts';
import { decodePathPart } from './request-body.ts';
import { serverApiRoute, type ServerApiDeps } from './server-api.ts';

export type HttpDeps = {
  assets: Map<string, Asset>;
  metrics: Metrics;
  logger: Logger;
  /** Set when development tokens are served (POST /api/dev/token). */
  devTokenSecret: string | undefined;
  /** Why the node cannot take new rooms right now, or undefined when it can. */
  notReadyReason(): string | undefined;
  /** Serve /metrics here (false when it has its own port, OPS_PORT). */
  serveMetrics: boolean;
  /** When set, /metrics needs `Authorization: Bearer <this>`. */
  metricsToken: string | undefined;
  media: MediaRouteDeps;
  /** The cluster's nodes and the rooms each is the origin of (GET /api/cluster). */
  cluster(): Promise<{ mode: 'single' | 'redis'; nodeId: string; nodes: NodeInfo[] }>;
  /** The link URL of the room's origin node when that is another node (its HLS and live status are made there). */
  originElsewhere(room: string): Promise<string | undefined>;
  /** The RTMP listener's port, when RTMP is on (GET /api/ingest tells the studio page). */
  rtmpPort(): number | undefined;
  /** GET /api/rtp-capabilities: what every room router here receives and sends. */
  mediaCapabilities: MediaCapabilities;
  /** WHIP (/whip/…: encoders publishing a room's show) and WHEP (/whep/…: standard players watching it). */
  webrtcHttp: Record<'whip' | 'whep', { reply(req: IncomingMessage, path: string): Promise<Reply> }>;
  /** The operator's server API (/api/server/…). */
  serverApi: ServerApiDeps;
};

/** A reply in memory; an empty `contentType` sends none (an empty body). */
type Reply = { status: number; body: string | Buffer; contentType: string; cacheControl?: string; headers?: Record<string, string> };

const json = (status: number, value: unknown): Reply => ({
  status,
  body: JSON.stringify(value),
  contentType: 'application/json; charset=utf-8',
  cacheControl: 'no-store',
});

/** Plain routes: health, readiness, metrics, demo pages and their assets. */
export function createHttpHandler(deps: HttpDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const viaOrigin = originProxy(deps.originElsewhere);
  return handler(deps, (req, d) => route(req, d, viaOrigin));
}

/** Health, readiness, metrics and the cluster view only: the operator's port (OPS_PORT), outside the public connection limits. */
export function createOpsHandler(deps: HttpDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return handler(deps, async (req, d) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const reply = await opsRoute(req, url.pathname, d, true);
    if (!reply) throw new NotFoundError('NOT_FOUND', `nothing at ${url.pathname}`);
    return reply;
  });
}

type AnyReply = Reply | FileReply | ForwardedReply;

function handler(deps: HttpDeps, routeFn: (req: IncomingMessage, deps: HttpDeps) => Promise<AnyReply>): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    routeFn(req, deps).then(
      (reply) => ('file' in reply ? sendFile(req, res, reply) : 'forwarded' in reply ? sendForwarded(res, reply) : send(res, reply)),
      (err: unknown) => {
        if (!(err instanceof OnstageError)) deps.logger.error({ err, url: req.url }, 'http request failed');
        send(res, json(err instanceof OnstageError ? err.status : 500, { error: toErrorBody(err) }));
      },
    ).catch((err: unknown) => {
      if (!(err instanceof OnstageError)) deps.logger.error({ err, url: req.url }, 'http reply failed');
      if (!res.headersSent) send(res, json(err instanceof OnstageError ? err.status : 500, { error: toErrorBody(err) }));
      else res.destroy();
    });
  };
}

async function route(req: IncomingMessage, deps: HttpDeps, viaOrigin: ReturnType<typeof originProxy>): Promise<AnyReply> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/api/dev/token' && deps.devTokenSecret) {
    if (req.method !== 'POST') throw new InvalidInputError('METHOD_NOT_ALLOWED', 'POST a JSON body');
    return json(200, await issueDevToken(req, deps.devTokenSecret));
  }
  if (url.pathname.startsWith('/api/server/')) {
    const result = await serverApiRoute(req, url.pathname.slice('/api/server'.length), url.searchParams, deps.serverApi);
    return 'status' in result ? json(result.status, result.value) : result;
  }
  if (url.pathname.startsWith('/whip/')) return deps.webrtcHttp.whip.reply(req, url.pathname);
  if (url.pathname.startsWith('/whep/')) return deps.webrtcHttp.whep.reply(req, url.pathname);
  if (url.pathname === '/api/recordings' || url.pathname.startsWith('/api/recordings/')) {
    const result = await recordingsRoute(req, url.pathname.slice('/api/recordings'.length), url.searchParams, `${url.pathname}${url.search}`, deps.media);
    if ('redirect' in result) return { status: 302, body: '', contentType: '', cacheControl: 'no-store', headers: { location: result.redirect, 'access-control-allow-origin': '*' } };
    return 'status' in result ? json(result.status, result.value) : result;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    throw new InvalidInputError('METHOD_NOT_ALLOWED', `${req.method} is not supported here`);
  }
  const path = url.pathname;
  const fromOrigin = async (room: string) => (deps.media.servesLocally(room) ? undefined : viaOrigin(req, room, `${path}${url.search}`));
  const ops = await opsRoute(req, path, deps, deps.serveMetrics);
  if (ops) return ops;
  if (path === '/') return page(req, deps, 'index');
  if (path === '/api/ingest') return json(200, { whip: true, whep: true, rtmpPort: deps.rtmpPort() ?? null });
  // Public and the same for every room: any app's page may ask (CORS), before it has a token.
  if (path === '/api/rtp-capabilities') return { ...json(200, deps.mediaCapabilities), headers: { 'access-control-allow-origin': '*' } };
  const hls = /^\/hls\/([^/]+)\/(.+)$/.exec(path);
  if (hls) return (await fromOrigin(hls[1]!)) ?? hlsReply(hls[1]!, hls[2]!, url.searchParams, deps.media);
  const live = /^\/api\/live\/([^/]+)$/.exec(path);
  if (live) return (await fromOrigin(live[1]!)) ?? json(200, liveStatus(req, live[1]!, url.searchParams, deps.media));
  const pageMatch = /^\/(host|watch)\/([^/]*)$/.exec(path);
  if (pageMatch) {
    const roomId = RoomId.safeParse(decodePathPart(pageMatch[2] ?? ''));
    if (!roomId.success) throw new InvalidInputError('INVALID_PAYLOAD', roomId.error.issues[0]?.message ?? 'bad room id');
    return page(req, deps, pageMatch[1] as 'host' | 'watch');
  }
  const asset = path.startsWith('/assets/') ? deps.assets.get(path) : undefined;
  if (asset) return assetReply(req, asset);
  throw new NotFoundError('NOT_FOUND', `nothing at ${path}`);
}

async function opsRoute(req: IncomingMessage, path: string, deps: HttpDeps, metrics: boolean): Promise<Reply | undefined> {
  if (path === '/healthz') return json(200, { status: 'ok' });
  if (path === '/readyz') {
    const reason = deps.notReadyReason();
    return reason ? json(503, { status: 'not ready', reason }) : json(200, { status: 'ready' });
  }
  if (path === '/metrics' && metrics) {
    if (deps.metricsToken) requireBearer(req, deps.metricsToken);
    return {
      status: 200,
      body: await deps.metrics.registry.metrics(),
      contentType: deps.metrics.registry.contentType,
      cacheControl: 'no-store',
    };
  }
  // Node addresses and room names: the operator's, like /metrics.
  if (path === '/api/cluster' && metrics) {
    if (deps.metricsToken) requireBearer(req, deps.metricsToken);
    return json(200, await deps.cluster());
  }
  return undefined;
}

function requireBearer(req: IncomingMessage, expected: string): void {
  const header = req.headers.authorization;
  if (!header) throw new AuthError('TOKEN_MISSING', 'send Authorization: Bearer <METRICS_TOKEN>');
  const given = Buffer.from(header.replace(/^Bearer\s+/i, ''));
  const want = Buffer.from(expected);
  if (given.length !== want.length || !timingSafeEqual(given, want)) throw new AuthError('TOKEN_INVALID', 'wrong metrics token');
}

function page(req: IncomingMessage, deps: HttpDeps, name: 'index' | 'host' | 'watch'): Reply {
  const asset = deps.assets.get(`/pages/${name}.html`);
  if (!asset) throw new Error(`demo page ${name} missing`);
  return assetReply(req, asset);
}

/** A demo file, compressed the way the client accepts (brotli, else gzip); hashed chunks cached for good. */
function assetReply(req: IncomingMessage, asset: Asset): Reply {
  const accepts = String(req.headers['accept-encoding'] ?? '');
  const [encoding, body] = asset.br && /\bbr\b/.test(accepts) ? ['br', asset.br] : asset.gzip && /\bgzip\b/.test(accepts) ? ['gzip', asset.gzip] : [undefined, asset.body];
  return {
    status: 200,
    body,
    contentType: asset.contentType,
    cacheControl: asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    headers: { vary: 'accept-encoding', ...(encoding ? { 'content-encoding': encoding } : {}) },
  };
}

function send(res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, {
    ...(reply.contentType ? { 'content-type': reply.contentType } : {}),
    'content-length': Buffer.byteLength(reply.body),
    'x-content-type-options': 'nosniff',
    ...(reply.cacheControl ? { 'cache-control': reply.cacheControl } : {}),
    ...reply.headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : reply.body);
}
