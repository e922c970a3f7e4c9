import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { MediaKind, ProducerInfo, Role, RtpCapabilities, RtpParameters, ShowEndReason } from '@onstage/protocol';
import { ForbiddenError, StateError, UnavailableError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { RoomRouter } from '../media/room-router.ts';
import type { Direction } from '../media/peer-media.ts';
import { Participant, type Notify } from './participant.ts';

/**
 * The room's life:
 *   waiting ── host joins ──▶ live ── host leaves ──▶ waiting
 *   any ── last participant leaves / media fails / server stops ──▶ closed (router released)
 */
export type RoomState = 'waiting' | 'live' | 'closed';

type RoomEvents = { closed: [] };

/** A live show: one host, any number of viewers, and the rules of who may do what. */
export class Room extends EventEmitter<RoomEvents> {
  readonly id: string;
  readonly #router: RoomRouter;
  readonly #logger: Logger;
  readonly #participants = new Map<string, Participant>();
  readonly #producers = new Map<string, ProducerInfo>();
  #host: Participant | undefined;
  #closed = false;

  constructor(id: string, router: RoomRouter, logger: Logger) {
    super();
    this.id = id;
    this.#router = router;
    this.#logger = logger;
    router.once('failed', () => this.close('media_failure'));
  }

  get state(): RoomState {
    if (this.#closed) return 'closed';
    return this.#host ? 'live' : 'waiting';
  }

  get size(): number {
    return this.#participants.size;
  }

  get rtpCapabilities(): RtpCapabilities {
    return this.#router.rtpCapabilities;
  }

  producers(): ProducerInfo[] {
    return [...this.#producers.values()];
  }

  join(init: { role: Role; displayName: string | undefined; notify: Notify }): Participant {
    if (this.#closed) throw new UnavailableError('room is closed');
    if (init.role === 'host' && this.#host) throw new StateError('HOST_ALREADY_PRESENT', 'this room already has a host');
    const id = randomUUID();
    const log = this.#logger.child({ peer: id, role: init.role });
    const media = this.#router.createPeer(log);
    const participant = new Participant({ ...init, id, media });
    media.on('producerClosed', (producerId) => {
      if (this.#producers.delete(producerId)) this.#broadcast(participant, (p) => p.notify('producerClosed', { producerId }));
    });
    media.on('consumerClosed', (consumerId) => participant.notify('consumerClosed', { consumerId }));
    this.#participants.set(participant.id, participant);
    if (participant.role === 'host') {
      this.#host = participant;
      this.#broadcast(participant, (p) => p.notify('showStarted', { hostId: participant.id }));
    }
    log.info({ participants: this.#participants.size }, 'joined');
    return participant;
  }

  async createTransport(participant: Participant, direction: Direction) {
    if (direction === 'send') this.#assertMayPublish(participant);
    return participant.media.createTransport(direction);
  }

  async produce(participant: Participant, transportId: string, kind: MediaKind, rtpParameters: RtpParameters) {
    this.#assertMayPublish(participant);
    const { producerId } = await participant.media.produce(transportId, kind, rtpParameters);
    const info: ProducerInfo = { producerId, participantId: participant.id, kind };
    this.#producers.set(producerId, info);
    this.#broadcast(participant, (p) => p.notify('producerAdded', info));
    return { producerId };
  }

  leave(participant: Participant): void {
    if (!this.#participants.delete(participant.id)) return;
    participant.markLeft();
    this.#logger.info({ peer: participant.id, participants: this.#participants.size }, 'left');
    if (participant === this.#host) {
      this.#host = undefined;
      this.#broadcast(participant, (p) => p.notify('showEnded', { reason: 'host_left' }));
    }
    if (this.#participants.size === 0) this.#release('empty');
  }

  /** Ends the show for everyone still here and closes the room. */
  close(reason: ShowEndReason): void {
    if (this.#closed) return;
    for (const p of this.#participants.values()) {
      p.notify('showEnded', { reason });
      p.markLeft();
    }
    this.#release(reason);
  }

  #release(why: ShowEndReason | 'empty'): void {
    this.#closed = true;
    this.#participants.clear();
    this.#producers.clear();
    this.#host = undefined;
    this.#router.close();
    this.#logger.info({ why }, 'room closed');
    this.emit('closed');
  }

  #assertMayPublish(participant: Participant): void {
    if (participant.role !== 'host') throw new ForbiddenError('only the host may publish media in this room');
  }

  #broadcast(except: Participant, send: (p: Participant) => void): void {
    for (const p of this.#participants.values()) if (p !== except) send(p);
  }
}
