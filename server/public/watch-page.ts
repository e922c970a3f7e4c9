import { OnstageClient, type Quality, type Recording, type ShowEndReason, type StageState, type WatchMode } from '@onstage/client-sdk';
import { mountChat } from './chat-panel.ts';
import { byId, devTokenFor, el, errorText, renderList, setBadge, setOverlay, setStatus, showWatching, ENDED_TEXT } from './page-helpers.ts';
import { StageGrid } from './stage-grid.ts';

/**
 * The watch page, once its code has loaded (see watch.ts). `firstToken` was asked for while it
 * loaded: the connection uses it, later ones fetch their own.
 */
export async function watchPage(room: string, firstToken: Promise<string>): Promise<void> {
  const params = new URLSearchParams(location.search);
  // ?mode=hls forces HLS, ?mode=webrtc forces WebRTC; by default WebRTC with HLS as the fallback.
  const modeParam = params.get('mode');
  const mode = modeParam === 'hls' || modeParam === 'webrtc' ? modeParam : 'auto';
  // ?hls=standard plays whole HLS segments instead of Low-Latency HLS parts.
  const hlsLowLatency = params.get('hls') !== 'standard';
  const replayId = params.get('recording');
  const unmute = byId<HTMLButtonElement>('unmute');
  const requestButton = byId<HTMLButtonElement>('request-stage');
  const leaveButton = byId<HTMLButtonElement>('leave-stage');
  const invite = byId('invite');
  byId('room').textContent = room;

  let early: Promise<string> | undefined = firstToken;
  const token = () => {
    const t = early ?? devTokenFor(room, 'viewer');
    early = undefined;
    return t;
  };
  const client = new OnstageClient({ token });
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
    mode: undefined as WatchMode | undefined,
    /** Why the current mode was chosen (e.g. the reason WebRTC was given up). */
    modeReason: '',
  };
  Object.assign(globalThis, { onstage: debug });
  let firstFrameShown = () => {};
  const firstFrame = new Promise<void>((resolve) => (firstFrameShown = resolve));

  client.on('live', () => {
    debug.ended = undefined;
    setBadge('LIVE', true);
    setOverlay(undefined);
    setStatus('');
  });
  client.on('trackadded', (track) => {
    if (track.kind !== 'video' || debug.firstFrameMs !== undefined) return;
    const video = byId('grid').querySelector('video');
    video?.requestVideoFrameCallback(() => {
      if (debug.firstFrameMs !== undefined) return;
      debug.firstFrameMs = performance.now();
      performance.mark('onstage:first-frame');
      firstFrameShown();
    });
  });
  client.on('ended', (reason) => {
    debug.ended = reason;
    setBadge('ENDED', false);
    setOverlay(ENDED_TEXT[reason]);
    setStatus('Stay on this page: the show resumes here if the host comes back.');
  });
  client.on('activespeaker', (id) => (debug.activeSpeaker = id));
  client.on('mode', (m, reason) => {
    debug.mode = m;
    debug.modeReason = reason;
    byId('badge').title = `${m}: ${reason}`;
    if (m !== 'hls' || document.getElementById('hls-video')) return;
    // One <video> with the composite (host and co-hosts), a few seconds behind.
    const grid = byId('grid');
    grid.querySelectorAll('.tile').forEach((t) => t.remove());
    const video = el('video', { className: 'single', id: 'hls-video', autoplay: true, muted: true, playsInline: true });
    grid.prepend(video);
    client.attachHls(video);
    setOverlay(undefined);
    setStatus(`Watching over HLS (${reason}); a few seconds behind live.`);
    unmute.onclick = () => (video.muted = !video.muted);
  });
  client.on('hostaway', () => setStatus('The host is reconnecting…'));
  client.on('hostback', () => setStatus(''));
  client.on('reconnecting', () => setStatus('Connection lost; reconnecting…', true));
  client.on('reconnected', () => {
    debug.reconnects++;
    setStatus('');
  });
  client.on('disconnected', (reason) => {
    setBadge('OFFLINE', false);
    setOverlay(reason === 'banned' || reason === 'removed' ? 'You were removed from this room' : 'Disconnected');
    setStatus(`Disconnected (${reason}).`, true);
  });
  client.on('error', (err) => setStatus(`Problem receiving the show: ${errorText(err)}`, true));
  client.on('stage', renderStage);
  client.on('audience', showWatching);
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

  /** Servers may keep recordings to the room's own people (MEDIA_ACCESS=token): always send a token. */
  async function authHeader(): Promise<Record<string, string>> {
    return { authorization: `Bearer ${await devTokenFor(room, 'viewer')}` };
  }

  /** Lists this room's finished recordings; each plays here with ?recording=<id>. */
  async function loadPastShows(): Promise<void> {
    const res = await fetch(`/api/recordings?room=${encodeURIComponent(room)}`, { headers: await authHeader() });
    const list = res.ok ? ((await res.json()) as { recordings: Recording[] }).recordings : [];
    renderList(
      byId('past-list'),
      list
        .filter((r) => r.status === 'ready')
        .map((r) => ({
          label: `${new Date(r.startedAt).toLocaleString()} · ${formatDuration(r.durationS ?? 0)}`,
          actions: [['Play', async () => void (location.search = `?recording=${r.id}`)]],
        })),
      'none yet',
    );
  }

  function formatDuration(s: number): string {
    return `${Math.floor(s / 60)}:${String(Math.round(s % 60)).padStart(2, '0')}`;
  }

  /** Plays a past show (VOD) instead of the live room. */
  async function replay(id: string): Promise<void> {
    const res = await fetch(`/api/recordings/${encodeURIComponent(id)}`, { headers: await authHeader() });
    if (!res.ok) throw new Error(`no such recording (${res.status})`);
    const recording = (await res.json()) as Recording;
    if (recording.status !== 'ready' || !recording.url) throw new Error(`this recording is ${recording.status}`);
    const video = el('video', { className: 'single', id: 'replay-video', controls: true, autoplay: true, muted: true, playsInline: true, src: `${recording.url}?token=${encodeURIComponent(await devTokenFor(room, 'viewer'))}` });
    byId('grid').prepend(video);
    setBadge('REPLAY', false);
    setOverlay(undefined);
    setStatus(`Recorded ${new Date(recording.startedAt).toLocaleString()}. `);
    byId('status').append(el('a', { href: location.pathname, textContent: 'Back to the live room' }));
  }

  client.on('ended', () => void loadPastShows().catch(() => {}));

  try {
    if (replayId) {
      await replay(replayId);
    } else {
      setStatus('Connecting…');
      const show = await client.watch(room, { mode, hlsLowLatency });
      if (show.getTracks().length === 0 && client.mode === 'webrtc') {
        setBadge('WAITING', false);
        setOverlay('Waiting for the host to go live…');
        setStatus('');
      }
    }
  } catch (err) {
    setBadge('ERROR', false);
    setOverlay(replayId ? 'Cannot play this recording' : 'Cannot watch this show');
    setStatus(errorText(err), true);
  }
  // After the show's first frame (or a few seconds): the join's requests and CPU come first.
  void Promise.race([firstFrame, new Promise((r) => setTimeout(r, 3000))])
    .then(loadPastShows)
    .catch(() => {});
}
