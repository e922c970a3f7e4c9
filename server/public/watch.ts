import { OnstageClient, type Quality, type ShowEndReason, type StageState } from '@onstage/client-sdk';
import { mountChat } from './chat-panel.ts';
import { byId, devTokenFor, errorText, renderList, roomFromPath, setBadge, setOverlay, setStatus } from './page-helpers.ts';
import { StageGrid } from './stage-grid.ts';

const room = roomFromPath();
const unmute = byId<HTMLButtonElement>('unmute');
const requestButton = byId<HTMLButtonElement>('request-stage');
const leaveButton = byId<HTMLButtonElement>('leave-stage');
const invite = byId('invite');
byId('room').textContent = room;

const client = new OnstageClient({ token: () => devTokenFor(room, 'viewer') });
const grid = new StageGrid(byId('grid'), client);
mountChat(byId('chat'), client, false);
let camera: MediaStream | undefined;

/** For tests and the devtools console. firstFrameMs: page start to the first decoded frame. */
const debug = {
  room,
  client,
  firstFrameMs: undefined as number | undefined,
  ended: undefined as ShowEndReason | undefined,
  reconnects: 0,
  activeSpeaker: null as string | null,
};
Object.assign(globalThis, { onstage: debug });

const ENDED_TEXT: Record<ShowEndReason, string> = {
  host_left: 'The show has ended.',
  host_timeout: 'The host did not come back; the show has ended.',
  media_failure: 'The show was interrupted by a server problem.',
  server_shutdown: 'The server is restarting.',
};

client.on('live', () => {
  debug.ended = undefined;
  setBadge('LIVE', true);
  setOverlay(undefined);
  setStatus('');
});
client.on('trackadded', (track) => {
  if (track.kind !== 'video' || debug.firstFrameMs !== undefined) return;
  const video = byId('grid').querySelector('video');
  video?.requestVideoFrameCallback(() => (debug.firstFrameMs ??= performance.now()));
});
client.on('ended', (reason) => {
  debug.ended = reason;
  setBadge('ENDED', false);
  setOverlay(ENDED_TEXT[reason]);
  setStatus('Stay on this page: the show resumes here if the host comes back.');
});
client.on('activespeaker', (id) => (debug.activeSpeaker = id));
client.on('hostaway', () => setStatus('The host is reconnecting…'));
client.on('hostback', () => setStatus(''));
client.on('reconnecting', () => setStatus('Connection lost; reconnecting…', true));
client.on('reconnected', () => {
  debug.reconnects++;
  setStatus('');
});
client.on('disconnected', (reason) => {
  setBadge('OFFLINE', false);
  setOverlay(reason === 'banned' ? 'You were removed from this room' : 'Disconnected');
  setStatus(`Disconnected (${reason}).`, true);
});
client.on('error', (err) => setStatus(`Problem receiving the show: ${errorText(err)}`, true));
client.on('stage', renderStage);
client.on('onstage', async () => {
  setStatus('You are on stage.');
  try {
    camera ??= await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 360 }, audio: true });
    grid.showLocal(camera, 'You');
    await client.publish(camera);
  } catch (err) {
    setStatus(`Cannot use your camera: ${errorText(err)}`, true);
  }
});
client.on('offstage', () => {
  grid.remove('local');
  setStatus('You left the stage.');
});

function renderStage(stage: StageState): void {
  const me = client.participantId;
  const onStage = client.onStage;
  const requested = stage.requests.some((r) => r.participantId === me);
  invite.hidden = !stage.invites.some((i) => i.participantId === me);
  requestButton.hidden = onStage;
  requestButton.textContent = requested ? 'Cancel my request' : 'Request to join the stage';
  leaveButton.hidden = !onStage;
  renderList(
    byId('stage-list'),
    stage.seats.map((s) => ({ label: `${s.displayName}${s.role === 'host' ? ' (host)' : ''}${s.participantId === me ? ' (you)' : ''}`, actions: [] })),
    'nobody yet',
  );
}

const run = (action: () => Promise<void>) => () => void action().catch((err: unknown) => setStatus(errorText(err), true));
requestButton.addEventListener(
  'click',
  run(async () => {
    const requested = client.stage?.requests.some((r) => r.participantId === client.participantId);
    await (requested ? client.cancelStageRequest() : client.requestStage());
    if (!requested) setStatus('Request sent; waiting for the host.');
  }),
);
leaveButton.addEventListener('click', run(() => client.leaveStage()));
byId('accept-invite').addEventListener('click', run(() => client.respond(true)));
byId('decline-invite').addEventListener('click', run(() => client.respond(false)));
byId<HTMLSelectElement>('quality').addEventListener('change', (e) =>
  run(() => client.setPreferredQuality((e.target as HTMLSelectElement).value as Quality))(),
);
unmute.addEventListener('click', () => {
  const on = unmute.textContent === 'Unmute';
  grid.setMuted(!on);
  unmute.textContent = on ? 'Mute' : 'Unmute';
});

try {
  setStatus('Connecting…');
  const show = await client.watch(room);
  if (show.getTracks().length === 0) {
    setBadge('WAITING', false);
    setOverlay('Waiting for the host to go live…');
    setStatus('');
  }
} catch (err) {
  setBadge('ERROR', false);
  setOverlay('Cannot watch this show');
  setStatus(errorText(err), true);
}
