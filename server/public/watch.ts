import { OnstageClient, type ShowEndReason } from '@onstage/client-sdk';
import { byId, errorText, roomFromPath, setBadge, setOverlay, setStatus } from './page-helpers.ts';

const room = roomFromPath();
const video = byId<HTMLVideoElement>('show');
const unmute = byId<HTMLButtonElement>('unmute');
byId('room').textContent = room;

const client = new OnstageClient();
/** For tests and the devtools console. firstFrameMs: page start to the first decoded frame. */
const debug: { room: string; client: OnstageClient; firstFrameMs: number | undefined; ended: ShowEndReason | undefined } = {
  room,
  client,
  firstFrameMs: undefined,
  ended: undefined,
};
Object.assign(globalThis, { onstage: debug });

const ENDED_TEXT: Record<ShowEndReason, string> = {
  host_left: 'The show has ended.',
  media_failure: 'The show was interrupted by a server problem.',
  server_shutdown: 'The server is restarting.',
};

function waitForFirstFrame(): void {
  video.requestVideoFrameCallback(() => {
    debug.firstFrameMs ??= performance.now();
  });
}

client.on('live', () => {
  debug.ended = undefined;
  setBadge('LIVE', true);
  setOverlay(undefined);
  setStatus('');
});
client.on('trackadded', () => {
  // Re-attach so the element picks up tracks added after playback started.
  video.srcObject = video.srcObject;
  void video.play().catch(() => undefined);
});
client.on('ended', (reason) => {
  debug.ended = reason;
  setBadge('ENDED', false);
  setOverlay(ENDED_TEXT[reason]);
  setStatus('Stay on this page: the show resumes here if the host comes back.');
});
client.on('disconnected', (reason) => {
  setBadge('OFFLINE', false);
  setOverlay('Disconnected');
  setStatus(`Lost the connection to the server (${reason}). Reload to reconnect.`, true);
});

client.on('error', (err) => setStatus(`Problem receiving the show: ${errorText(err)}`, true));

unmute.addEventListener('click', () => {
  video.muted = !video.muted;
  unmute.textContent = video.muted ? 'Unmute' : 'Mute';
});

try {
  setStatus('Connecting…');
  const stream = await client.watch(room);
  video.srcObject = stream;
  waitForFirstFrame();
  if (stream.getTracks().length === 0) {
    setBadge('WAITING', false);
    setOverlay('Waiting for the host to go live…');
    setStatus('');
  }
} catch (err) {
  setBadge('ERROR', false);
  setOverlay('Cannot watch this show');
  setStatus(errorText(err), true);
}
