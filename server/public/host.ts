import { OnstageClient } from '@onstage/client-sdk';
import { byId, errorText, roomFromPath, setBadge, setOverlay, setStatus } from './page-helpers.ts';

const room = roomFromPath();
const preview = byId<HTMLVideoElement>('preview');
const goLiveButton = byId<HTMLButtonElement>('go-live');
const stopButton = byId<HTMLButtonElement>('stop');
const watchLink = byId<HTMLAnchorElement>('watch-link');
byId('room').textContent = room;
watchLink.href = watchLink.textContent = `${location.origin}/watch/${encodeURIComponent(room)}`;

let client: OnstageClient | undefined;
let stream: MediaStream | undefined;

/** For tests and the devtools console. */
const debug = { room, get client() { return client; }, get live() { return client !== undefined; } };
Object.assign(globalThis, { onstage: debug });

function showLive(live: boolean): void {
  setBadge(live ? 'LIVE' : 'OFFLINE', live);
  goLiveButton.hidden = live;
  stopButton.hidden = !live;
}

async function startCamera(): Promise<void> {
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } },
      audio: true,
    });
    preview.srcObject = stream;
    setOverlay(undefined);
    goLiveButton.disabled = false;
    setStatus('Camera ready. Press “Go live” to start the show.');
  } catch (err) {
    setOverlay('No camera');
    setStatus(`Cannot use the camera or microphone: ${errorText(err)}`, true);
  }
}

goLiveButton.addEventListener('click', async () => {
  if (!stream) return;
  goLiveButton.disabled = true;
  setStatus('Going live…');
  const c = new OnstageClient();
  c.on('disconnected', (reason) => {
    client = undefined;
    showLive(false);
    setStatus(`Disconnected from the server (${reason}).`, true);
  });
  try {
    await c.goLive(room, stream);
    client = c;
    showLive(true);
    setStatus('You are live.');
  } catch (err) {
    await c.leave();
    setStatus(`Could not go live: ${errorText(err)}`, true);
  } finally {
    goLiveButton.disabled = false;
  }
});

stopButton.addEventListener('click', async () => {
  const c = client;
  client = undefined;
  showLive(false);
  await c?.leave();
  setStatus('The show has ended.');
});

void startCamera();
