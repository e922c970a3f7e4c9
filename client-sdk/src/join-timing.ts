/**
 * User Timing marks at each step of joining a room, so a page (or a benchmark) can see where the
 * time to the first frame goes: `onstage:token` (the token function answered), `onstage:connected`
 * (signalling up), `onstage:device-loaded` (the WebRTC device knows the node's codecs),
 * `onstage:joined` (join answered), `onstage:transport-connected` (the receive transport's ICE and
 * DTLS done). Each is set every time the step happens; the first of each is the first join.
 */
export type JoinStep = 'token' | 'connected' | 'device-loaded' | 'joined' | 'transport-connected';

export function markJoinStep(step: JoinStep): void {
  globalThis.performance?.mark?.(`onstage:${step}`);
}
