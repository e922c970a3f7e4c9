import { parse, parseParams, type MediaDescription, type SessionDescription } from 'sdp-transform';
import { isSameProfile } from 'h264-profile-level-id';
import type { DtlsParameters, MediaKind, RtpCapabilities, RtpParameters } from '@onstage/protocol';
import { InvalidInputError } from '../errors.ts';

/** One m-section of a publisher's offer that the room takes: what its producer receives. */
export type AcceptedSection = {
  mid: string;
  kind: MediaKind;
  rtpParameters: RtpParameters;
  /** Simulcast layers by rid, in the offer's order (empty without simulcast). */
  rids: string[];
};

/** One m-section of a player's offer (WHEP) that the room can send to: what it can receive. */
export type PlaySection = {
  mid: string;
  kind: MediaKind;
  /** The codecs it shares with the router, in its order of preference, under its own payload types. */
  codecs: CapCodec[];
};

/** An m-section the room does not take (answered with port 0), and why. */
export type RejectedSection = { mid: string | undefined; kind: string; reason: string };

/** An offer read section by section: `T` for each section the room takes. */
export type Offer<T> = {
  /** Every m-section in offer order, as the answer must list them. */
  sections: ({ accepted: T } | { rejected: RejectedSection })[];
  /** The client's certificate and the DTLS role it takes (the answer takes the other). */
  dtlsParameters: DtlsParameters;
  ice: { usernameFragment: string; password: string };
};
export type PublishOffer = Offer<AcceptedSection>;
export type PlayOffer = Offer<PlaySection>;

const MAX_OFFER_SECTIONS = 8;
// Codecs that only ever accompany a media codec.
const COMPANION_CODECS = new Set(['rtx', 'red', 'ulpfec', 'flexfec-03']);
const FINGERPRINT_ALGORITHMS = new Set(['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512']);

/**
 * Reads a publisher's SDP offer (WHIP): for each audio and video m-section the router can take,
 * the RTP parameters of its producer (codec chosen in the offer's order of preference, its RTX,
 * the feedback and header extensions the router supports, SSRCs or simulcast rids); the rest is
 * rejected section by section. Malformed offers are INVALID_PAYLOAD; an offer with nothing the
 * room can take is UNSUPPORTED_CODEC.
 */
export function readPublishOffer(sdp: string, caps: RtpCapabilities): PublishOffer {
  return readOffer(sdp, 'send', (m, mid, kind) => acceptSection(m, mid, kind, caps));
}

/**
 * Reads a player's SDP offer (WHEP): for each audio and video m-section that receives, the
 * codecs and header extensions it shares with the router, under the player's own payload types
 * and ids (the consumers then send with those).
 */
export function readPlayOffer(sdp: string, caps: RtpCapabilities): PlayOffer {
  return readOffer(sdp, 'receive', (m, mid, kind) => playSection(m, mid, kind, caps));
}

function readOffer<T>(sdp: string, direction: 'send' | 'receive', take: (m: MediaDescription, mid: string, kind: MediaKind) => T | string): Offer<T> {
  let session: SessionDescription;
  try {
    session = parse(sdp);
  } catch (err) {
    throw new InvalidInputError('INVALID_PAYLOAD', `unreadable SDP (${(err as Error).message})`);
  }
  const media = session.media ?? [];
  if (media.length === 0) throw new InvalidInputError('INVALID_PAYLOAD', 'the offer has no media sections');
  if (media.length > MAX_OFFER_SECTIONS) throw new InvalidInputError('INVALID_PAYLOAD', `at most ${MAX_OFFER_SECTIONS} media sections`);

  const first = media[0]!;
  const usernameFragment = first.iceUfrag ?? session.iceUfrag;
  const password = first.icePwd ?? session.icePwd;
  if (!usernameFragment || !password) throw new InvalidInputError('INVALID_PAYLOAD', 'the offer has no ICE credentials (a=ice-ufrag, a=ice-pwd)');
  const fingerprint = first.fingerprint ?? session.fingerprint;
  const algorithm = fingerprint?.type.toLowerCase();
  if (!fingerprint || !algorithm || !FINGERPRINT_ALGORITHMS.has(algorithm)) {
    throw new InvalidInputError('INVALID_PAYLOAD', 'the offer has no usable DTLS fingerprint (a=fingerprint)');
  }
  // The client answers DTLS (passive) only if it says so; otherwise it starts it and we listen.
  const setup = first.setup ?? session.setup ?? 'actpass';
  const dtlsParameters: DtlsParameters = {
    role: setup === 'passive' ? 'server' : 'client',
    fingerprints: [{ algorithm: algorithm as NonNullable<DtlsParameters['fingerprints'][number]['algorithm']>, value: fingerprint.hash }],
  };

  const directions = direction === 'send' ? ['sendonly', 'sendrecv'] : ['recvonly', 'sendrecv'];
  const seen = new Set<string>();
  const sections = media.map((m) => {
    const mid = m.mid === undefined ? undefined : String(m.mid);
    const reject = (reason: string) => ({ rejected: { mid, kind: m.type, reason } });
    if (mid === undefined || seen.has(mid)) return reject('no a=mid, or one used twice');
    seen.add(mid);
    if (m.type !== 'audio' && m.type !== 'video') return reject(`${m.type} is not taken`);
    if (!directions.includes(m.direction ?? 'sendrecv')) return reject(`this section must ${direction} (it is ${m.direction})`);
    const accepted = take(m, mid, m.type);
    return typeof accepted === 'string' ? reject(accepted) : { accepted };
  });
  if (!sections.some((s) => 'accepted' in s)) {
    const reasons = sections.map((s) => ('rejected' in s ? `${s.rejected.kind}: ${s.rejected.reason}` : '')).join('; ');
    throw new InvalidInputError('UNSUPPORTED_CODEC', `nothing in the offer can be ${direction === 'send' ? 'received' : 'sent'} (${reasons})`);
  }
  return { sections, dtlsParameters, ice: { usernameFragment, password } };
}

export type CapCodec = NonNullable<RtpCapabilities['codecs']>[number];
type Offered = { payloadType: number; mimeType: string; clockRate: number; channels?: number; parameters: Record<string, string | number> };

/** The codecs an m-section lists, in its order. */
function offeredCodecs(m: MediaDescription, kind: MediaKind): Offered[] {
  return m.rtp.map((r) => {
    const fmtp = m.fmtp.find((f) => f.payload === r.payload);
    const channels = kind === 'audio' ? Number(r.encoding ?? 1) : undefined;
    return {
      payloadType: r.payload,
      mimeType: `${kind}/${r.codec}`,
      clockRate: r.rate ?? 0,
      ...(channels ? { channels } : {}),
      parameters: fmtp ? fmtpParameters(fmtp.config) : {},
    };
  });
}

const isCompanion = (codec: Offered) => COMPANION_CODECS.has(codec.mimeType.split('/')[1]!.toLowerCase());
const isRtxFor = (codec: Offered, payloadType: number) => codec.mimeType.split('/')[1]!.toLowerCase() === 'rtx' && Number(codec.parameters['apt']) === payloadType;

/** The section's rtcp-fb lines for a payload type, limited to what the router's codec does. */
function feedbackFor(m: MediaDescription, payloadType: number, cap: CapCodec) {
  return (m.rtcpFb ?? [])
    .filter((f) => f.payload === '*' || Number(f.payload) === payloadType)
    .map((f) => ({ type: f.type, ...(f.subtype ? { parameter: f.subtype } : {}) }))
    .filter((f) => (cap.rtcpFeedback ?? []).some((c) => c.type === f.type && (c.parameter ?? '') === (f.parameter ?? '')));
}

/**
 * What a player's section can receive from the router: the codecs they share, under the player's
 * payload types. (No RTX and no header extensions: mediasoup sends those under its router's
 * numbers, which a player's offer has already fixed otherwise; retransmissions go unwrapped.)
 */
function playSection(m: MediaDescription, mid: string, kind: MediaKind, caps: RtpCapabilities): PlaySection | string {
  const offered = offeredCodecs(m, kind);
  const codecs: CapCodec[] = [];
  for (const codec of offered) {
    if (isCompanion(codec)) continue;
    const cap = (caps.codecs ?? []).find((c) => c.kind === kind && sameCodec(codec, c));
    if (!cap) continue;
    codecs.push({ kind, mimeType: cap.mimeType, preferredPayloadType: codec.payloadType, clockRate: codec.clockRate, ...(codec.channels ? { channels: codec.channels } : {}), parameters: codec.parameters, rtcpFeedback: feedbackFor(m, codec.payloadType, cap) });
  }
  if (codecs.length === 0) return `no codec the room sends among ${[...new Set(offered.map((c) => c.mimeType))].join(', ')}`;
  return { mid, kind, codecs };
}

/** The section's producer parameters, or why it cannot be taken. */
function acceptSection(m: MediaDescription, mid: string, kind: MediaKind, caps: RtpCapabilities): AcceptedSection | string {
  const offered = offeredCodecs(m, kind);
  const capCodecs = caps.codecs ?? [];
  let chosen: { codec: Offered; cap: CapCodec } | undefined;
  for (const codec of offered) {
    if (isCompanion(codec)) continue;
    const cap = capCodecs.find((c) => c.kind === kind && sameCodec(codec, c));
    if (cap) {
      chosen = { codec, cap };
      break;
    }
  }
  if (!chosen) return `no codec the room takes among ${[...new Set(offered.map((c) => c.mimeType))].join(', ')}`;
  const { codec, cap } = chosen;
  const capRtx = capCodecs.find((c) => c.mimeType.toLowerCase() === `${kind}/rtx` && c.parameters?.['apt'] === cap.preferredPayloadType);
  const rtx = capRtx && offered.find((c) => isRtxFor(c, codec.payloadType));
  const feedback = feedbackFor(m, codec.payloadType, cap);
  const headerExtensions = (m.ext ?? [])
    .filter((e) => caps.headerExtensions?.some((h) => h.kind === kind && h.uri === e.uri))
    .map((e) => ({ uri: e.uri, id: e.value }));

  const rids = sendRids(m);
  let encodings: NonNullable<RtpParameters['encodings']>;
  if (rids.length > 0) {
    encodings = rids.map((rid) => ({ rid }));
  } else {
    const ssrcs = [...new Set((m.ssrcs ?? []).map((s) => Number(s.id)))];
    const fid = (m.ssrcGroups ?? []).find((g) => g.semantics === 'FID')?.ssrcs.split(' ').map(Number);
    const primary = fid?.[0] ?? ssrcs[0];
    if (primary === undefined) return 'neither a=ssrc nor simulcast rids: the stream cannot be told apart';
    encodings = [{ ssrc: primary, ...(rtx && fid?.[1] !== undefined ? { rtx: { ssrc: fid[1] } } : {}) }];
  }
  const firstSsrc = encodings[0]?.ssrc;
  const cname = (m.ssrcs ?? []).find((s) => s.attribute === 'cname' && (firstSsrc === undefined || Number(s.id) === firstSsrc))?.value;

  return {
    mid,
    kind,
    rids,
    rtpParameters: {
      mid,
      codecs: [
        { mimeType: codec.mimeType, payloadType: codec.payloadType, clockRate: codec.clockRate, ...(codec.channels ? { channels: codec.channels } : {}), parameters: codec.parameters, rtcpFeedback: feedback },
        ...(rtx ? [{ mimeType: rtx.mimeType, payloadType: rtx.payloadType, clockRate: rtx.clockRate, parameters: { apt: codec.payloadType } }] : []),
      ],
      headerExtensions,
      encodings,
      rtcp: { ...(cname ? { cname } : {}), reducedSize: true },
    },
  };
}

/** An fmtp line's parameters; profile-level-id stays text even when it is all digits (e.g. 640028). */
function fmtpParameters(config: string): Record<string, string | number> {
  const params = parseParams(config) as Record<string, string | number>;
  if (params['profile-level-id'] !== undefined) params['profile-level-id'] = String(params['profile-level-id']).padStart(6, '0');
  return params;
}

/** The same codec (H.264: same packetization mode and profile; VP9: same profile). */
export function sameCodec(offered: Pick<Offered, 'mimeType' | 'clockRate' | 'channels'> & { parameters?: Record<string, unknown> }, cap: Pick<CapCodec, 'mimeType' | 'clockRate' | 'channels' | 'parameters'>): boolean {
  if (offered.mimeType.toLowerCase() !== cap.mimeType.toLowerCase() || offered.clockRate !== cap.clockRate) return false;
  if ((offered.channels ?? 1) !== (cap.channels ?? 1)) return false;
  const capParams = cap.parameters ?? {};
  const params = offered.parameters ?? {};
  switch (offered.mimeType.toLowerCase()) {
    case 'video/h264':
      return Number(params['packetization-mode'] ?? 0) === Number(capParams['packetization-mode'] ?? 0) && isSameProfile(params, capParams);
    case 'video/vp9':
      return Number(params['profile-id'] ?? 0) === Number(capParams['profile-id'] ?? 0);
    default:
      return true;
  }
}

/** Simulcast layers the publisher sends, by rid, in the order of its a=simulcast line (paused ones too). */
function sendRids(m: MediaDescription): string[] {
  const sendable = new Set((m.rids ?? []).filter((r) => r.direction === 'send').map((r) => String(r.id)));
  if (sendable.size === 0 || !m.simulcast || m.simulcast.dir1 !== 'send') return [];
  return m.simulcast.list1
    .split(';')
    .map((alternatives) => alternatives.split(',')[0]!.replace(/^~/, ''))
    .filter((rid) => sendable.has(rid));
}
