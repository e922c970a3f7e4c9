import { write, type MediaAttributes, type SessionDescription } from 'sdp-transform';
import type { RtpParameters, TransportOptions } from '@onstage/protocol';
import type { CapCodec, Offer, PlayOffer, PublishOffer } from './sdp-offer.ts';

type Candidates = NonNullable<MediaAttributes['candidates']>;

type SectionCodec = { payloadType: number; mimeType: string; clockRate: number; channels?: number; parameters?: Record<string, unknown>; rtcpFeedback?: { type: string; parameter?: string }[] };
/** What the answer says of one section the room takes. */
type AnswerSection = {
  mid: string;
  kind: string;
  direction: 'recvonly' | 'sendonly';
  codecs: SectionCodec[];
  extensions: { id: number; uri: string }[];
  /** Simulcast layers received (publishers). */
  rids?: string[];
  /** The stream sent in this section (players), when there is one yet. */
  sending?: { ssrc: number; rtxSsrc?: number; cname: string };
};

/**
 * The answer to a publisher's offer: every offered m-section in order, the accepted ones receive
 * (their codec, RTX, feedback, extensions and simulcast rids) on one bundled ICE-lite transport,
 * the others rejected with port 0.
 */
export function writePublishAnswer(offer: PublishOffer, transport: TransportOptions, sessionId: number): string {
  return writeAnswer(offer, transport, sessionId, ({ mid, kind, rtpParameters, rids }) => ({
    mid,
    kind,
    direction: 'recvonly',
    codecs: rtpParameters.codecs,
    extensions: rtpParameters.headerExtensions ?? [],
    rids,
  }));
}

/**
 * The answer to a player's offer (WHEP): each accepted section sends the one codec chosen for it
 * (under the player's payload type), and names the stream it carries now (`sending`) when there is one.
 */
export function writePlayAnswer(offer: PlayOffer, transport: TransportOptions, sessionId: number, chosen: Map<string, { codec: CapCodec; sending?: RtpParameters }>): string {
  return writeAnswer(offer, transport, sessionId, ({ mid, kind, codecs }) => {
    const { codec = codecs[0]!, sending: stream } = chosen.get(mid) ?? {};
    const encoding = stream?.encodings?.[0];
    return {
      mid,
      kind,
      direction: 'sendonly',
      codecs: [{ ...codec, payloadType: codec.preferredPayloadType ?? 0 }],
      extensions: [],
      ...(encoding?.ssrc !== undefined
        ? { sending: { ssrc: encoding.ssrc, ...(encoding.rtx ? { rtxSsrc: encoding.rtx.ssrc } : {}), cname: stream?.rtcp?.cname ?? 'onstage' } }
        : {}),
    };
  });
}

function writeAnswer<T>(offer: Offer<T>, transport: TransportOptions, sessionId: number, describe: (section: T) => AnswerSection): string {
  const { iceParameters, iceCandidates, dtlsParameters } = transport;
  const fingerprint = dtlsParameters.fingerprints.find((f) => f.algorithm === 'sha-256') ?? dtlsParameters.fingerprints[0]!;
  const candidates = sdpCandidates(iceCandidates);
  const sections = offer.sections.map((s) => ('accepted' in s ? describe(s.accepted) : s));
  const answer: SessionDescription = {
    version: 0,
    origin: { username: 'onstage', sessionId, sessionVersion: 1, netType: 'IN', ipVer: 4, address: '0.0.0.0' },
    name: '-',
    timing: { start: 0, stop: 0 },
    icelite: 'ice-lite',
    fingerprint: { type: fingerprint.algorithm, hash: fingerprint.value },
    groups: [{ type: 'BUNDLE', mids: sections.flatMap((s) => ('rejected' in s ? [] : [s.mid])).join(' ') }],
    msidSemantic: { semantic: 'WMS', token: '*' },
    media: sections.map((section) => {
      if ('rejected' in section) {
        const { kind, mid } = section.rejected;
        return { type: kind, port: 0, protocol: 'UDP/TLS/RTP/SAVPF', payloads: '0', rtp: [], fmtp: [], direction: 'inactive', ...(mid !== undefined ? { mid } : {}) };
      }
      return {
        ...mediaSection(section),
        connection: { version: 4, ip: '0.0.0.0' },
        iceUfrag: iceParameters.usernameFragment,
        icePwd: iceParameters.password,
        setup: offer.dtlsParameters.role === 'server' ? 'active' : 'passive',
        candidates,
        endOfCandidates: 'end-of-candidates',
        rtcpMux: 'rtcp-mux',
        rtcpRsize: 'rtcp-rsize',
      };
    }),
  };
  return write(answer);
}

function mediaSection({ mid, kind, direction, codecs, extensions, rids = [], sending }: AnswerSection): SessionDescription['media'][number] {
  const msid = `onstage-${mid}`;
  return {
    type: kind,
    port: 9,
    protocol: 'UDP/TLS/RTP/SAVPF',
    payloads: codecs.map((c) => c.payloadType).join(' '),
    mid,
    direction,
    rtp: codecs.map((c) => ({
      payload: c.payloadType,
      codec: c.mimeType.split('/')[1]!,
      rate: c.clockRate,
      ...(c.channels && c.channels > 1 ? { encoding: c.channels } : {}),
    })),
    fmtp: codecs
      .filter((c) => c.parameters && Object.keys(c.parameters).length > 0)
      .map((c) => ({ payload: c.payloadType, config: Object.entries(c.parameters!).map(([k, v]) => `${k}=${String(v)}`).join(';') })),
    rtcpFb: codecs.flatMap((c) => (c.rtcpFeedback ?? []).map((f) => ({ payload: c.payloadType, type: f.type, ...(f.parameter ? { subtype: f.parameter } : {}) }))),
    ext: extensions.map((e) => ({ value: e.id, uri: e.uri })),
    ...(rids.length > 0 ? { rids: rids.map((id) => ({ id, direction: 'recv' as const })), simulcast: { dir1: 'recv', list1: rids.join(';') } } : {}),
    ...(sending
      ? {
          msid: [{ id: msid, appdata: `${msid}-track` }],
          ssrcs: [sending.ssrc, ...(sending.rtxSsrc !== undefined ? [sending.rtxSsrc] : [])].flatMap((id) => [
            { id, attribute: 'cname', value: sending.cname },
            { id, attribute: 'msid', value: `${msid} ${msid}-track` },
          ]),
          ...(sending.rtxSsrc !== undefined ? { ssrcGroups: [{ semantics: 'FID', ssrcs: `${sending.ssrc} ${sending.rtxSsrc}` }] } : {}),
        }
      : {}),
  };
}

function sdpCandidates(candidates: TransportOptions['iceCandidates']): Candidates {
  return candidates.map((c) => ({
    foundation: c.foundation,
    component: 1,
    transport: c.protocol,
    priority: c.priority,
    ip: c.address,
    port: c.port,
    type: c.type,
    ...(c.tcpType ? { tcptype: c.tcpType } : {}),
  }));
}

/**
 * The answer to an ICE restart (RFC 9725 section 4.3.2): this side's new credentials, and its
 * UDP candidate again under the first bundled m-section. Candidates do not change on a restart,
 * but some clients replace all remote candidates with the answer's, and a common one (whip-whep)
 * cannot take more than one: the UDP one is what a restarted connection wants.
 */
export function writeIceRestartFragment(ice: TransportOptions['iceParameters'], candidates: TransportOptions['iceCandidates'], first: { kind: string; mid: string }): string {
  const lines = [
    'a=ice-lite',
    `a=ice-ufrag:${ice.usernameFragment}`,
    `a=ice-pwd:${ice.password}`,
    `m=${first.kind} 9 UDP/TLS/RTP/SAVPF 0`,
    `a=mid:${first.mid}`,
    ...candidates.filter((c) => c.protocol === 'udp').slice(0, 1).map((c) => `a=candidate:${c.foundation} 1 ${c.protocol} ${c.priority} ${c.address} ${c.port} typ ${c.type}${c.tcpType ? ` tcptype ${c.tcpType}` : ''}`),
    'a=end-of-candidates',
  ];
  return `${lines.join('\r\n')}\r\n`;
}
