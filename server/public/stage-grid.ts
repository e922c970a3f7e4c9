import type { OnstageClient, StageState } from '@onstage/client-sdk';

/**
 * Video tiles for everyone on stage, kept in step with the client's tracks and the stage roster.
 * `local` adds this page's own camera as a tile.
 */
export class StageGrid {
  readonly #root: HTMLElement;
  readonly #tiles = new Map<string, { tile: HTMLElement; video: HTMLVideoElement; label: HTMLElement }>();
  #muted = true;
  #stage: StageState | undefined;

  constructor(root: HTMLElement, client: OnstageClient) {
    this.#root = root;
    client.on('trackadded', (_track, participantId, stream) => this.#show(participantId, stream));
    client.on('trackremoved', (_track, participantId) => {
      if (!client.streamOf(participantId)) this.remove(participantId);
    });
    client.on('stage', (stage) => {
      this.#stage = stage;
      for (const id of this.#tiles.keys()) this.#label(id);
      for (const id of this.#tiles.keys()) {
        if (id !== 'local' && !stage.seats.some((s) => s.participantId === id)) this.remove(id);
      }
    });
    client.on('activespeaker', (id) => {
      for (const [pid, t] of this.#tiles) t.tile.classList.toggle('speaking', pid === id);
    });
  }

  /** Shows this page's own camera (always muted locally). */
  showLocal(stream: MediaStream, label: string): void {
    const t = this.#show('local', stream);
    t.video.muted = true;
    t.label.textContent = label;
  }

  remove(participantId: string): void {
    this.#tiles.get(participantId)?.tile.remove();
    this.#tiles.delete(participantId);
    this.#root.dataset['count'] = String(this.#tiles.size);
  }

  /** Sound on or off for every remote tile. */
  setMuted(muted: boolean): void {
    this.#muted = muted;
    for (const [id, t] of this.#tiles) if (id !== 'local') t.video.muted = muted;
  }

  #label(participantId: string): void {
    const t = this.#tiles.get(participantId);
    const seat = this.#stage?.seats.find((s) => s.participantId === participantId);
    if (!t || !seat) return;
    const muted = [seat.muted.audio ? 'mic off' : '', seat.muted.video ? 'camera off' : ''].filter(Boolean).join(', ');
    t.label.textContent = `${seat.displayName}${seat.role === 'host' ? ' (host)' : ''}${muted ? ` · ${muted}` : ''}`;
  }

  #show(participantId: string, stream: MediaStream) {
    let t = this.#tiles.get(participantId);
    if (!t) {
      const tile = document.createElement('div');
      tile.className = 'tile';
      tile.dataset['participant'] = participantId;
      const video = document.createElement('video');
      video.autoplay = true;
      video.playsInline = true;
      video.muted = participantId === 'local' || this.#muted;
      const label = document.createElement('span');
      label.className = 'label';
      tile.append(video, label);
      this.#root.append(tile);
      t = { tile, video, label };
      this.#tiles.set(participantId, t);
      this.#root.dataset['count'] = String(this.#tiles.size);
      this.#label(participantId);
    }
    // Re-attach so the element picks up tracks added after playback started.
    t.video.srcObject = stream;
    void t.video.play().catch(() => undefined);
    return t;
  }
}
