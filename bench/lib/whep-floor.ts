import type { Browser } from 'playwright-core';

/**
 * The floor a viewer page's first frame can reach on this machine, for bench:join's same-run
 * baseline: a page with no script file and no SDK, whose one inline script asks for a token and
 * plays the show over WHEP (one HTTP round trip: offer in, answer out), as a bare WebRTC player
 * would. Served to the browser by the bench itself (Playwright routing), not by the server.
 */
const page = (room: string) => `<!doctype html><meta charset="utf-8"><title>floor</title><script>
const token = fetch('/api/dev/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"room":"${room}","role":"viewer"}' })
  .then((r) => r.json()).then((t) => t.token);
const pc = new RTCPeerConnection();
pc.addTransceiver('audio', { direction: 'recvonly' });
pc.addTransceiver('video', { direction: 'recvonly' });
const stream = new MediaStream();
pc.ontrack = (e) => stream.addTrack(e.track);
(async () => {
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  const res = await fetch('/whep/${room}', { method: 'POST', headers: { 'content-type': 'application/sdp', authorization: 'Bearer ' + (await token) }, body: offer.sdp });
  globalThis.session = { url: res.headers.get('location'), token: await token };
  await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  const video = Object.assign(document.createElement('video'), { muted: true, autoplay: true, srcObject: stream });
  document.body.append(video);
  video.requestVideoFrameCallback(() => (globalThis.firstFrameMs = performance.now()));
})().catch((err) => (globalThis.failed = String(err)));
</script>`;

/** Opens the floor page in a fresh browser context; navigation start → first decoded frame, ms. Ends its WHEP session. */
export async function floorFirstFrame(browser: Browser, serverUrl: string, room: string): Promise<number> {
  const context = await browser.newContext();
  try {
    await context.route(`${serverUrl}/bench-floor`, (route) => route.fulfill({ contentType: 'text/html; charset=utf-8', body: page(room) }));
    const p = await context.newPage();
    await p.goto(`${serverUrl}/bench-floor`);
    type Outcome = { firstFrameMs?: number; failed?: string; session?: { url: string | null; token: string } };
    const outcome = await p.waitForFunction(() => {
      const g = globalThis as unknown as Outcome;
      return g.firstFrameMs !== undefined || g.failed !== undefined ? { firstFrameMs: g.firstFrameMs, failed: g.failed, session: g.session } : undefined;
    }, null, { timeout: 20_000 });
    const { firstFrameMs, failed, session } = (await outcome.jsonValue()) as Outcome;
    if (failed !== undefined || firstFrameMs === undefined) throw new Error(`the floor page did not play: ${failed}`);
    if (session?.url) await p.evaluate(({ url, token }) => fetch(url, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } }), { url: session.url, token: session.token });
    return Math.round(firstFrameMs);
  } finally {
    await context.close();
  }
}
