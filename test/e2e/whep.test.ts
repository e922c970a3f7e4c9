import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { eventually, goLive, openPage, useServerAndBrowser } from '../helpers/browser.ts';
import { testToken } from '../helpers/socket-client.ts';

/**
 * Watching with a standard WHEP player nobody here wrote (`whip-whep`'s WHEPClient, in a Chromium
 * page): a show hosted from the studio page plays to it.
 */
const env = useServerAndBrowser();
const WHEP_CLIENT = readFileSync(createRequire(import.meta.url).resolve('whip-whep/whep.js'), 'utf8');

type Received = { frames: number; videoBytes: number; audioBytes: number; width: number };

test('a third-party WHEP player watches a show hosted from the studio page: it decodes the video and receives the audio; DELETE ends its session', { timeout: 90_000 }, async (t) => {
  await env.ready;
  const room = 'whep-show';
  const host = await openPage(env.browser, `${env.server.url}/host/${room}`);
  await goLive(host);

  const player = await openPage(env.browser, `${env.server.url}/`);
  await player.addScriptTag({ type: 'module', content: `${WHEP_CLIENT}\nglobalThis.WHEPClient = WHEPClient;` });
  await player.waitForFunction(() => 'WHEPClient' in globalThis);
  const token = testToken({ room, role: 'viewer', sub: 'whep-player' });
  const resource = await player.evaluate(
    async ({ url, token }) => {
      type WhepClient = { view(pc: RTCPeerConnection, url: string, token: string): Promise<void>; resourceURL: URL };
      const g = globalThis as unknown as { WHEPClient: new () => WhepClient; whep: WhepClient; pc: RTCPeerConnection; video: HTMLVideoElement; frames: number };
      const pc = new RTCPeerConnection();
      pc.addTransceiver('audio', { direction: 'recvonly' });
      pc.addTransceiver('video', { direction: 'recvonly' });
      const video = document.createElement('video');
      video.muted = true;
      video.autoplay = true;
      document.body.append(video);
      g.frames = 0;
      const count = () => video.requestVideoFrameCallback(() => {
        g.frames++;
        count();
      });
      count();
      pc.ontrack = (e) => {
        video.srcObject = e.streams[0] ?? new MediaStream([e.track, ...((video.srcObject as MediaStream | null)?.getTracks() ?? [])]);
      };
      const whep = new g.WHEPClient();
      Object.assign(g, { whep, pc, video });
      await whep.view(pc, url, token);
      return String(whep.resourceURL);
    },
    { url: `${env.server.url}/whep/${room}`, token },
  );
  assert.match(resource, new RegExp(`/whep/${room}/[A-Za-z0-9_-]+$`));

  const received = () =>
    player.evaluate(async (): Promise<Received> => {
      const g = globalThis as unknown as { pc: RTCPeerConnection; frames: number; video: HTMLVideoElement };
      const stats = [...(await g.pc.getStats()).values()] as { type: string; kind?: string; bytesReceived?: number; framesDecoded?: number }[];
      const inbound = (kind: string) => stats.filter((s) => s.type === 'inbound-rtp' && s.kind === kind);
      return {
        frames: g.frames,
        videoBytes: inbound('video').reduce((n, s) => n + (s.bytesReceived ?? 0), 0),
        audioBytes: inbound('audio').reduce((n, s) => n + (s.bytesReceived ?? 0), 0),
        width: g.video.videoWidth,
      };
    });
  const first = await eventually(received, (r) => r.frames > 10 && r.audioBytes > 0, 20_000);
  await new Promise((r) => setTimeout(r, 1000));
  const later = await received();
  t.diagnostic(`WHEP player: ${later.frames} frames shown, ${later.width} px wide, ${later.audioBytes} audio bytes`);
  assert.ok(later.frames > first.frames + 10, `the player shows the host's video (${first.frames} → ${later.frames} frames)`);
  assert.ok(later.width > 0, 'the picture has a size');
  assert.ok(later.audioBytes > first.audioBytes, `and receives the host's audio (${first.audioBytes} → ${later.audioBytes} bytes)`);

  // A host token is not a player's, and the player's session ends with its DELETE.
  const refused = await fetch(`${env.server.url}/whep/${room}`, {
    method: 'POST',
    body: 'v=0',
    headers: { 'content-type': 'application/sdp', authorization: `Bearer ${testToken({ room, role: 'host' })}` },
  });
  assert.equal(refused.status, 403);
  assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'ROLE_NOT_ALLOWED');
  await player.evaluate(() => (globalThis as unknown as { whep: { stop(): Promise<void> } }).whep.stop());
  const gone = await fetch(resource, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
  assert.equal(gone.status, 404, 'the session is gone after the player stopped');
  await host.locator('#stop').click();
  await Promise.all([host.context().close(), player.context().close()]);
});
