import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

/** The third-party WHIP client used by tests and benchmarks: `whip-whep` (medooze), as published on npm. */
const WHIP_CLIENT = readFileSync(createRequire(import.meta.url).resolve('whip-whep/whip.js'), 'utf8');

export type WhipVideoCodec = 'h264-main' | 'av1-only' | 'vp8-simulcast';
export type WhipPublished = { resource: string; etag: string | null; codec: string; fmtp: string; offer: string };

/**
 * Publishes the page's camera (and microphone) with the third-party WHIP client: H.264 main (what
 * OBS sends), AV1 only (what rooms refuse) or VP8 in three simulcast layers (720p, 360p, 180p). The client stays in the page as `whip`, its
 * connection as `pc`. Resolves with what the session and the encoder say once media flows.
 */
export async function publishWithWhipClient(page: Page, url: string, token: string, options: { videoCodec: WhipVideoCodec; audio: boolean }): Promise<WhipPublished> {
  await page.addScriptTag({ type: 'module', content: `${WHIP_CLIENT}\nglobalThis.WHIPClient = WHIPClient;` });
  await page.waitForFunction(() => 'WHIPClient' in globalThis);
  return page.evaluate(
    async ({ url, token, videoCodec, audio }) => {
      type WhipClient = { publish(pc: RTCPeerConnection, url: string, token: string): Promise<void>; resourceURL: URL; etag: string | null; onOffer: (sdp: string) => string };
      const g = globalThis as unknown as { WHIPClient: new () => WhipClient; whip: WhipClient; pc: RTCPeerConnection };
      const simulcast = videoCodec === 'vp8-simulcast';
      const size = simulcast ? { width: 1280, height: 720 } : { width: 640, height: 360 };
      const stream = await navigator.mediaDevices.getUserMedia({ video: { ...size, frameRate: 30 }, audio });
      const pc = new RTCPeerConnection();
      const layers = [
        { rid: 'l', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
        { rid: 'm', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
        { rid: 'h', maxBitrate: 1_500_000 },
      ];
      for (const track of stream.getTracks()) {
        const video = track.kind === 'video';
        const transceiver = pc.addTransceiver(track, { direction: 'sendonly', ...(video && simulcast ? { sendEncodings: layers } : {}) });
        if (!video) continue;
        const codecs = RTCRtpSender.getCapabilities('video')!.codecs;
        const wanted =
          videoCodec === 'h264-main'
            ? codecs.filter((c) => c.mimeType === 'video/H264' && /packetization-mode=1/.test(c.sdpFmtpLine ?? '') && /profile-level-id=4d/.test(c.sdpFmtpLine ?? ''))
            : codecs.filter((c) => c.mimeType === (simulcast ? 'video/VP8' : 'video/AV1'));
        transceiver.setCodecPreferences([...wanted, ...codecs.filter((c) => c.mimeType === 'video/rtx')]);
      }
      const whip = new g.WHIPClient();
      let offer = '';
      whip.onOffer = (sdp) => (offer = sdp);
      Object.assign(g, { whip, pc });
      await whip.publish(pc, url, token);
      // What the encoder sends, once it sends.
      let codec = { mimeType: '', sdpFmtpLine: '' };
      for (let i = 0; i < 100 && !codec.mimeType; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const stats = [...(await pc.getStats()).values()] as { type: string; kind?: string; codecId?: string; id: string; mimeType?: string; sdpFmtpLine?: string }[];
        const out = stats.find((s) => s.type === 'outbound-rtp' && s.kind === 'video' && s.codecId);
        const found = out && stats.find((s) => s.id === out.codecId);
        if (found) codec = { mimeType: found.mimeType ?? '', sdpFmtpLine: found.sdpFmtpLine ?? '' };
      }
      return { resource: String(whip.resourceURL), etag: whip.etag, codec: codec.mimeType, fmtp: codec.sdpFmtpLine, offer };
    },
    { url, token, ...options },
  );
}
