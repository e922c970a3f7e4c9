import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'sdp-transform';
import type { RtpCapabilities, TransportOptions } from '@onstage/protocol';
import { InvalidInputError } from '../../server/src/errors.ts';
import { writeIceRestartFragment, writePlayAnswer, writePublishAnswer } from '../../server/src/webrtc-http/sdp-answer.ts';
import { readPlayOffer, readPublishOffer } from '../../server/src/webrtc-http/sdp-offer.ts';
import { obsOffer } from '../helpers/obs-offer.ts';

/** The shape of a room router's capabilities (server/src/media/codecs.ts, as mediasoup expands them). */
const h264 = (pt: number, profileLevelId: string) => [
  { kind: 'video' as const, mimeType: 'video/H264', preferredPayloadType: pt, clockRate: 90000, parameters: { 'packetization-mode': 1, 'profile-level-id': profileLevelId, 'level-asymmetry-allowed': 1 }, rtcpFeedback: FEEDBACK },
  { kind: 'video' as const, mimeType: 'video/rtx', preferredPayloadType: pt + 1, clockRate: 90000, parameters: { apt: pt } },
];
const FEEDBACK = [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }, { type: 'goog-remb' }, { type: 'transport-cc' }];
const CAPS: RtpCapabilities = {
  codecs: [
    { kind: 'audio', mimeType: 'audio/opus', preferredPayloadType: 100, clockRate: 48000, channels: 2, rtcpFeedback: [{ type: 'nack' }, { type: 'transport-cc' }] },
    { kind: 'video', mimeType: 'video/VP8', preferredPayloadType: 101, clockRate: 90000, rtcpFeedback: FEEDBACK },
    { kind: 'video', mimeType: 'video/rtx', preferredPayloadType: 102, clockRate: 90000, parameters: { apt: 101 } },
    ...h264(103, '42e01f'),
    ...h264(105, '42001f'),
    ...h264(107, '4d001f'),
    ...h264(109, '64001f'),
  ],
  headerExtensions: [
    { kind: 'audio', uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', preferredId: 1 },
    { kind: 'video', uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', preferredId: 1 },
    { kind: 'video', uri: 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id', preferredId: 2 },
    { kind: 'video', uri: 'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id', preferredId: 3 },
    { kind: 'video', uri: 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time', preferredId: 4 },
    { kind: 'video', uri: 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01', preferredId: 5 },
    { kind: 'audio', uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level', preferredId: 10 },
  ],
} as RtpCapabilities;

const TRANSPORT: TransportOptions = {
  transportId: 't1',
  iceParameters: { usernameFragment: 'srvufrag', password: 'srvpassword', iceLite: true },
  iceCandidates: [{ foundation: 'udpcandidate', priority: 1076302079, address: '127.0.0.1', protocol: 'udp', port: 40000, type: 'host' }],
  dtlsParameters: { role: 'auto', fingerprints: [{ algorithm: 'sha-256', value: 'AA:BB' }] },
} as TransportOptions;

test("OBS's offer: Opus and H.264 by SSRC, session-level ICE and DTLS; the answer receives both on one ICE-lite transport", () => {
  const offer = readPublishOffer(obsOffer(), CAPS);
  assert.equal(offer.dtlsParameters.role, 'client', 'OBS offers actpass and starts DTLS itself');
  assert.equal(offer.dtlsParameters.fingerprints[0]?.algorithm, 'sha-256');
  assert.deepEqual(offer.ice, { usernameFragment: 'Wk3r', password: '7jJ0sG3nH1vLUJd4aQbAu9' });
  const [audio, video] = offer.sections.map((s) => ('accepted' in s ? s.accepted : assert.fail(`section refused: ${JSON.stringify(s)}`)));
  assert.equal(audio!.rtpParameters.codecs[0]?.mimeType, 'audio/opus');
  assert.equal(audio!.rtpParameters.codecs[0]?.channels, 2);
  assert.deepEqual(audio!.rtpParameters.encodings, [{ ssrc: 3303930201 }]);
  assert.equal(audio!.rtpParameters.rtcp?.cname, 'hMw4rZ8sNf2aLq0P');
  assert.deepEqual(video!.rtpParameters.codecs.map((c) => [c.mimeType, c.payloadType]), [['video/H264', 96]], 'no RTX was offered, none is taken');
  assert.deepEqual(video!.rtpParameters.codecs[0]?.rtcpFeedback, [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'goog-remb' }]);
  assert.deepEqual(video!.rtpParameters.encodings, [{ ssrc: 3303930202 }]);

  const answer = parse(writePublishAnswer(offer, TRANSPORT, 1));
  assert.equal(answer.icelite, 'ice-lite');
  assert.equal(answer.groups?.[0]?.mids, '0 1');
  assert.deepEqual(answer.media.map((m) => [m.type, String(m.mid), m.direction, String(m.payloads), m.setup]), [
    ['audio', '0', 'recvonly', '111', 'passive'],
    ['video', '1', 'recvonly', '96', 'passive'],
  ]);
  assert.equal(answer.media[1]?.fmtp[0]?.config, 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1');
  assert.equal(answer.media[0]?.candidates?.[0]?.ip, '127.0.0.1');
  assert.equal(answer.media[0]?.iceUfrag, 'srvufrag');
});

test("H.264 main and high profiles (OBS's x264 default is main) are taken; a profile the router lacks is not", () => {
  for (const profile of ['4d001f', '4d0032', '640028']) {
    const offer = readPublishOffer(obsOffer(profile), CAPS);
    assert.ok('accepted' in offer.sections[1]!, `profile-level-id ${profile} is taken`);
  }
  const constrainedHigh = readPublishOffer(obsOffer('640c1f'), CAPS);
  assert.ok('rejected' in constrainedHigh.sections[1]!, 'constrained high is not a profile the router lists');
});

test('a Chromium offer with three simulcast layers: VP8 with RTX, layers by rid, the extensions the router knows', () => {
  const offer = readPublishOffer(readFileSync(new URL('./fixtures/chromium-156-simulcast-offer.sdp', import.meta.url), 'utf8'), CAPS);
  const video = offer.sections[1];
  assert.ok(video && 'accepted' in video);
  const { rtpParameters, rids } = video.accepted;
  assert.deepEqual(rtpParameters.codecs.map((c) => c.mimeType), ['video/VP8', 'video/rtx'], "the offer's first codec, and its RTX");
  assert.equal(rtpParameters.codecs[1]?.parameters?.['apt'], rtpParameters.codecs[0]?.payloadType);
  assert.deepEqual(rids, ['l', 'm', 'h']);
  assert.deepEqual(rtpParameters.encodings, [{ rid: 'l' }, { rid: 'm' }, { rid: 'h' }]);
  assert.deepEqual(
    rtpParameters.headerExtensions?.map((e) => e.uri).sort(),
    [
      'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
      'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
      'urn:ietf:params:rtp-hdrext:sdes:mid',
      'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id',
      'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
    ],
    'toffset, video-orientation, playout-delay and the rest are left out',
  );
  const answer = parse(writePublishAnswer(offer, TRANSPORT, 1));
  assert.deepEqual(answer.media[1]?.simulcast, { dir1: 'recv', list1: 'l;m;h' });
  assert.deepEqual(answer.media[1]?.rids?.map((r) => `${r.id} ${r.direction}`), ['l recv', 'm recv', 'h recv']);
});

test('sections the room cannot take are refused one by one; an offer with nothing to take is UNSUPPORTED_CODEC', () => {
  const hevc = readPublishOffer(obsOffer('', 'H265'), CAPS);
  assert.ok('accepted' in hevc.sections[0]!, 'the audio is still taken');
  assert.ok('rejected' in hevc.sections[1]! && /no codec the room takes/.test(hevc.sections[1].rejected.reason));
  const answer = parse(writePublishAnswer(hevc, TRANSPORT, 1));
  assert.equal(answer.media[1]?.port, 0, 'the refused section has port 0');
  assert.equal(String(answer.groups?.[0]?.mids), '0', 'and is not bundled');

  const videoOnly = obsOffer('', 'H265').replace(/m=audio[\s\S]*?(?=m=video)/, '').replace('a=group:BUNDLE 0 1', 'a=group:BUNDLE 1');
  assert.throws(() => readPublishOffer(videoOnly, CAPS), (err: unknown) => err instanceof InvalidInputError && err.code === 'UNSUPPORTED_CODEC' && err.status === 422);
});

test('malformed offers are INVALID_PAYLOAD', () => {
  const bad = (sdp: string, why: string) =>
    assert.throws(() => readPublishOffer(sdp, CAPS), (err: unknown) => err instanceof InvalidInputError && err.code === 'INVALID_PAYLOAD', why);
  bad('hello', 'not SDP');
  bad('v=0\r\ns=-\r\nt=0 0\r\n', 'no media');
  bad(obsOffer().replace(/a=fingerprint:.*\r\n/, ''), 'no fingerprint');
  bad(obsOffer().replace(/a=ice-pwd:.*\r\n/, ''), 'no ICE password');
  const recvonly = readPublishOffer(obsOffer().replace('a=mid:1\r\na=sendonly', 'a=mid:1\r\na=recvonly'), CAPS);
  assert.ok('rejected' in recvonly.sections[1]!, 'a section that does not send is refused');
});

test('the answer to an ICE restart carries the new credentials and the candidates again', () => {
  const fragment = writeIceRestartFragment({ usernameFragment: 'new-u', password: 'new-p' }, TRANSPORT.iceCandidates, { kind: 'audio', mid: '0' });
  assert.match(fragment, /^a=ice-lite\r\na=ice-ufrag:new-u\r\na=ice-pwd:new-p\r\nm=audio 9 UDP\/TLS\/RTP\/SAVPF 0\r\na=mid:0\r\n/);
  assert.match(fragment, /a=candidate:udpcandidate 1 udp 1076302079 127\.0\.0\.1 40000 typ host\r\na=end-of-candidates\r\n$/);
});

test("a player's offer (WHEP): the sections that receive, with the codecs they share with the router under the player's payload types", () => {
  const recvonly = readFileSync(new URL('./fixtures/chromium-156-simulcast-offer.sdp', import.meta.url), 'utf8')
    .replaceAll('a=sendonly', 'a=recvonly')
    .replace(/a=rid:.*\r\n/g, '')
    .replace(/a=simulcast:.*\r\n/g, '');
  const offer = readPlayOffer(recvonly, CAPS);
  const [audio, video] = offer.sections.map((s) => ('accepted' in s ? s.accepted : assert.fail('section refused')));
  assert.deepEqual(audio!.codecs.map((c) => `${c.mimeType} ${c.preferredPayloadType}`), ['audio/opus 111']);
  assert.deepEqual(
    video!.codecs.map((c) => `${c.mimeType} ${c.parameters?.['profile-level-id'] ?? ''}`),
    ['video/VP8 ', 'video/H264 42001f', 'video/H264 42e01f', 'video/H264 4d001f'],
    'in the offer order; no RTX, no packetization-mode 0, nothing the router lacks (VP9, AV1)',
  );
  assert.throws(() => readPlayOffer(obsOffer(), CAPS), (err: unknown) => err instanceof InvalidInputError && err.code === 'UNSUPPORTED_CODEC', 'a publisher offer is not a player offer');

  const vp8 = video!.codecs[0]!;
  const answer = parse(writePlayAnswer(offer, TRANSPORT, 1, new Map([['1', { codec: vp8, sending: { codecs: [], encodings: [{ ssrc: 1234, rtx: { ssrc: 1235 } }], rtcp: { cname: 'host' } } }]])));
  assert.deepEqual(answer.media.map((m) => `${m.mid} ${m.direction} ${m.payloads}`), ['0 sendonly 111', '1 sendonly 96']);
  assert.deepEqual(answer.media[1]?.ssrcGroups, [{ semantics: 'FID', ssrcs: '1234 1235' }], 'the stream sent now is named');
  assert.equal(answer.media[0]?.ssrcs, undefined, 'nothing is sent in the audio section yet');
});
