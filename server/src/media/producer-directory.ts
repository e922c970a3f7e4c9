import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { ProducerInfo, Role } from '@onstage/protocol';

/** What the room says of a producer once it lets the room know of it. */
export type ProducerOwner = { participantId: string; role: Role; videoHeight?: number };

/** One producer of the room: the mediasoup object, where it lives, who sends it, whether media flows. */
export type ProducerEntry = {
  readonly producer: types.Producer;
  /** The router it was produced on (other routers get it through pipes). */
  readonly router: types.Router;
  /** The PeerMedia that made it (an opaque owner key here). */
  readonly peer: object;
  /** Set when the room announces it to participants; until then only its peer knows of it. */
  owner?: ProducerOwner;
  /** The worker has had packets of it. */
  flowing: boolean;
};

type DirectoryEvents = {
  flowing: [entry: ProducerEntry];
  paused: [entry: ProducerEntry];
  closed: [entry: ProducerEntry];
};

/**
 * Every producer of one room, in one place: what signalling announces, what the recorder and
 * active-speaker detection read, what pipes to other routers are made from. Entries leave when
 * their producer closes.
 */
export class ProducerDirectory extends EventEmitter<DirectoryEvents> {
  readonly #entries = new Map<string, ProducerEntry>();

  add(producer: types.Producer, router: types.Router, peer: object): ProducerEntry {
    const entry: ProducerEntry = { producer, router, peer, flowing: false };
    this.#entries.set(producer.id, entry);
    producer.observer.once('close', () => {
      this.#entries.delete(producer.id);
      this.emit('closed', entry);
    });
    return entry;
  }

  get(producerId: string): ProducerEntry | undefined {
    return this.#entries.get(producerId);
  }

  /** The room tells participants of it from now on. */
  announce(producerId: string, owner: ProducerOwner): ProducerInfo | undefined {
    const entry = this.#entries.get(producerId);
    if (!entry) return undefined;
    entry.owner = owner;
    return infoOf(entry, owner);
  }

  markFlowing(producerId: string): void {
    const entry = this.#entries.get(producerId);
    if (!entry || entry.flowing) return;
    entry.flowing = true;
    this.emit('flowing', entry);
  }

  /** After the producer was paused or resumed. */
  markPaused(producerId: string): void {
    const entry = this.#entries.get(producerId);
    if (entry) this.emit('paused', entry);
  }

  /** Announced producers, as participants see them. */
  announced(): ProducerInfo[] {
    const out: ProducerInfo[] = [];
    for (const entry of this.#entries.values()) if (entry.owner) out.push(infoOf(entry, entry.owner));
    return out;
  }

  /** Announced producers of one participant. */
  ofParticipant(participantId: string): ProducerEntry[] {
    return [...this.#entries.values()].filter((e) => e.owner?.participantId === participantId);
  }

  /** Producers one peer made, announced or not. */
  ofPeer(peer: object): types.Producer[] {
    const out: types.Producer[] = [];
    for (const entry of this.#entries.values()) if (entry.peer === peer) out.push(entry.producer);
    return out;
  }
}

export function infoOf(entry: ProducerEntry, owner: ProducerOwner): ProducerInfo {
  return {
    producerId: entry.producer.id,
    participantId: owner.participantId,
    role: owner.role,
    kind: entry.producer.kind,
    paused: entry.producer.paused,
    ...(entry.producer.kind === 'video' && owner.videoHeight ? { videoHeight: owner.videoHeight } : {}),
  };
}
