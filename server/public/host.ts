import { OnstageClient, type ParticipantInfo, type ShowEndReason, type StageState } from '@onstage/client-sdk';
import { mountChat } from './chat-panel.ts';
import { byId, devTokenFor, errorText, renderList, roomFromPath, setBadge, setOverlay, setStatus, showWatching, ENDED_TEXT } from './page-helpers.ts';
import { StageGrid } from './stage-grid.ts';

const room = roomFromPath();
const goLiveButton = byId<HTMLButtonElement>('go-live');
const stopButton = byId<HTMLButtonElement>('stop');
const unmute = byId<HTMLButtonElement>('unmute');
const watchLink = byId<HTMLAnchorElement>('watch-link');
byId('room').textContent = room;
watchLink.href = watchLink.textContent = `${location.origin}/watch/${encodeURIComponent(room)}`;
void showEncoderSettings();

const client = newClient();
const grid = new StageGrid(byId('grid'), client);
let live = false;
let reconnects = 0;
let stream: MediaStream | undefined;
let ended: ShowEndReason | undefined;

/** For tests and the devtools console. */
Object.assign(globalThis, { onstage: { room, client, get live() { return live; }, get reconnects() { return reconnects; }, get ended() { return ended; } } });

function newClient(): OnstageClient {
  const c = new OnstageClient({ token: () => devTokenFor(room, 'host') });
  c.on('stage', renderStage);
  c.on('participants', renderAudience);
  c.on('audience', showWatching);
  c.on('reconnecting', () => setStatus('Connection lost; reconnecting…', true));
  c.on('reconnected', (resumed) => {
    reconnects++;
    setStatus(resumed ? 'Reconnected: you are still live.' : 'Reconnected as a new show.');
  });
  c.on('disconnected', (reason) => {
    showLive(false);
    setStatus(`Disconnected from the server (${reason}). Press “Go live” to start again.`, true);
  });
  // The show can end without the host pressing Stop (a media failure, the server stopping):
  // leave the room so “Go live” starts a new one.
  c.on('ended', (reason) => {
    if (!live) return;
    showLive(false);
    ended = reason;
    void c.leave().then(() => setStatus(`${ENDED_TEXT[reason]} Press “Go live” to start again.`, true));
  });
  c.on('error', (err) => setStatus(errorText(err), true));
  mountChat(byId('chat'), c, true);
  return c;
}

function showLive(on: boolean): void {
  live = on;
  setBadge(on ? 'LIVE' : 'OFFLINE', on);
  goLiveButton.hidden = on;
  stopButton.hidden = !on;
}

function renderStage(stage: StageState): void {
  byId('seats').textContent = `${stage.seats.length}/${stage.maxSize}`;
  renderList(
    byId('stage-list'),
    stage.seats.map((s) => ({
      label: `${s.displayName}${s.role === 'host' ? ' (you)' : ''}`,
      actions:
        s.role === 'host'
          ? []
          : [
              [s.muted.audio ? 'unmute mic' : 'mute mic', () => client.mute(s.participantId, 'audio', !s.muted.audio)],
              [s.muted.video ? 'show cam' : 'hide cam', () => client.mute(s.participantId, 'video', !s.muted.video)],
              ['remove', () => client.removeFromStage(s.participantId)],
            ],
    })),
    'nobody',
  );
  renderList(
    byId('requests'),
    stage.requests.map((r) => ({
      label: r.displayName,
      actions: [
        ['accept', () => client.answerRequest(r.participantId, true)],
        ['decline', () => client.answerRequest(r.participantId, false)],
      ],
    })),
    'none',
  );
}

function renderAudience(participants: ParticipantInfo[]): void {
  const invited = new Set(client.stage?.invites.map((i) => i.participantId));
  renderList(
    byId('audience'),
    participants
      .filter((p) => p.role === 'viewer')
      .map((p) => ({
        label: `${p.displayName}${p.onStage ? ' · on stage' : ''}${p.away ? ' · reconnecting' : ''}${invited.has(p.participantId) ? ' · invited' : ''}`,
        actions: p.onStage ? [] : [['invite', () => client.inviteToStage(p.participantId)]],
      })),
    'nobody yet',
  );
}

async function startCamera(): Promise<void> {
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } },
      audio: true,
    });
    grid.showLocal(stream, 'You');
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
  try {
    await client.goLive(room, stream);
    ended = undefined;
    showLive(true);
    setStatus('You are live.');
  } catch (err) {
    setStatus(`Could not go live: ${errorText(err)}`, true);
  } finally {
    goLiveButton.disabled = false;
  }
});

stopButton.addEventListener('click', async () => {
  showLive(false);
  // Leaving removes every received track (and so the co-host tiles); the camera preview stays.
  await client.leave();
  byId('chat').querySelector('ol')!.replaceChildren();
  setStatus('The show has ended.');
});

unmute.addEventListener('click', () => {
  const on = unmute.textContent === 'Hear co-hosts';
  grid.setMuted(!on);
  unmute.textContent = on ? 'Mute co-hosts' : 'Hear co-hosts';
});

void startCamera();

/** Where encoders publish this room (WHIP, RTMP) and the key they publish with, with copy buttons. */
async function showEncoderSettings(): Promise<void> {
  byId('whip-url').textContent = `${location.origin}/whip/${encodeURIComponent(room)}`;
  const { rtmpPort } = (await (await fetch('/api/ingest')).json()) as { rtmpPort: number | null };
  if (rtmpPort === null) byId('rtmp-line').hidden = true;
  else byId('rtmp-url').textContent = `rtmp://${location.hostname}:${rtmpPort}/live`;
  byId('stream-key').textContent = await devTokenFor(room, 'host');
  for (const button of document.querySelectorAll<HTMLButtonElement>('button.copy')) {
    button.onclick = () => void navigator.clipboard.writeText(byId(button.dataset['copy'] ?? '').textContent ?? '').then(() => (button.textContent = 'Copied'));
  }
}
