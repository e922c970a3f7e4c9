import type { types } from 'mediasoup-client';
import type { ProducerInfo } from '@onstage/protocol';
import type { TrackStats } from './client-events.ts';

/** One track received from a stage member: its consumer and what the server said of its producer. */
export type TrackPublication = { readonly consumer: types.Consumer; readonly info: ProducerInfo };

type RemoteParticipantsEvents = {
  added(track: MediaStreamTrack, participantId: string, stream: MediaStream): void;
  removed(track: MediaStreamTrack, participantId: string): void;
};

/**
 * Everything this client receives: a MediaStream per stage member, and the show's stream (the
 * host's tracks). Owns the consumers and closes them.
 */
export class RemoteParticipants {
  readonly #tracks = new Map<string, TrackPublication>();
  readonly #streams = new Map<string, MediaStream>();
  /** The host's tracks, as `watch()` returns them. */
  readonly showStream = new MediaStream();
  readonly #events: RemoteParticipantsEvents;

  constructor(events: RemoteParticipantsEvents) {
    this.#events = events;
  }

  streamOf(participantId: string): MediaStream | undefined {
    return this.#streams.get(participantId);
  }

  receives(producerId: string): boolean {
    for (const t of this.#tracks.values()) if (t.info.producerId === producerId) return true;
    return false;
  }

  add(consumer: types.Consumer, info: ProducerInfo): void {
    this.#tracks.set(consumer.id, { consumer, info });
    let stream = this.#streams.get(info.participantId);
    if (!stream) this.#streams.set(info.participantId, (stream = new MediaStream()));
    stream.addTrack(consumer.track);
    if (info.role === 'host') this.showStream.addTrack(consumer.track);
    this.#events.added(consumer.track, info.participantId, stream);
  }

  remove(consumerId: string): void {
    const t = this.#tracks.get(consumerId);
    if (!t) return;
    this.#tracks.delete(consumerId);
    t.consumer.close();
    const stream = this.#streams.get(t.info.participantId);
    stream?.removeTrack(t.consumer.track);
    if (stream?.getTracks().length === 0) this.#streams.delete(t.info.participantId);
    this.showStream.removeTrack(t.consumer.track);
    this.#events.removed(t.consumer.track, t.info.participantId);
  }

  removeProducer(producerId: string): void {
    for (const [id, t] of this.#tracks) if (t.info.producerId === producerId) this.remove(id);
  }

  clear(): void {
    for (const id of [...this.#tracks.keys()]) this.remove(id);
  }

  /** Receive-side stats of every track. */
  async stats(): Promise<TrackStats[]> {
    const out: TrackStats[] = [];
    for (const { consumer, info } of this.#tracks.values()) {
      const report = await consumer.getStats();
      report.forEach((s: Record<string, unknown>) => {
        if (s['type'] !== 'inbound-rtp') return;
        out.push({
          participantId: info.participantId,
          kind: info.kind,
          bytesReceived: Number(s['bytesReceived'] ?? 0),
          packetsReceived: Number(s['packetsReceived'] ?? 0),
          packetsLost: Number(s['packetsLost'] ?? 0),
          ...(info.kind === 'video'
            ? {
                framesDecoded: Number(s['framesDecoded'] ?? 0),
                frameWidth: Number(s['frameWidth'] ?? 0),
                frameHeight: Number(s['frameHeight'] ?? 0),
              }
            : {}),
        });
      });
    }
    return out;
  }
}
