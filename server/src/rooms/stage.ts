import { EventEmitter } from 'node:events';
import type { MediaKind } from '@onstage/protocol';
import { NotFoundError, StateError } from '../errors.ts';

/**
 * Who is on stage (连麦) and who is on the way there. Pure logic: no media, no sockets, an injected
 * clock. The room applies the consequences (who may produce, whose producers close).
 *
 *   viewer ──request──▶ requested ──host accepts──▶ co-host ──leaves / host removes──▶ viewer
 *   viewer ◀─host invites── invited ──viewer accepts──▶ co-host
 *   requested / invited ──declined, expired, or the participant is gone──▶ viewer
 *
 * Crossing paths resolve to "yes": inviting a viewer who has a pending request (or requesting with
 * a pending invite) seats them at once. Every seat change checks capacity when it happens, so two
 * accepts for the last seat give one co-host and one STAGE_FULL.
 */
export type StageSeat = { participantId: string; role: 'host' | 'cohost'; muted: Record<MediaKind, boolean> };
export type StagePending = { participantId: string; expiresAt: number };
export type StageSnapshot = { maxSize: number; seats: StageSeat[]; requests: StagePending[]; invites: StagePending[] };
export type UnseatReason = 'left' | 'removed' | 'gone' | 'show_ended';

type StageEvents = {
  /** Anything in the snapshot changed. */
  changed: [];
  seated: [participantId: string];
  unseated: [participantId: string, reason: UnseatReason];
  expired: [kind: 'request' | 'invite', participantId: string];
};

export type StageOptions = {
  /** Seats including the host's. */
  maxSize: number;
  /** How long a request or an invitation stays open. */
  ttlMs: number;
  /** Open requests (and, separately, invitations) at most: every stage update carries them all. */
  maxPending: number;
  now?: () => number;
};

export class Stage extends EventEmitter<StageEvents> {
  readonly #maxSize: number;
  readonly #ttlMs: number;
  readonly #maxPending: number;
  readonly #now: () => number;
  #host: StageSeat | undefined;
  readonly #cohosts = new Map<string, StageSeat>();
  readonly #requests = new Map<string, number>();
  readonly #invites = new Map<string, number>();

  constructor(options: StageOptions) {
    super();
    if (options.maxSize < 1) throw new RangeError('a stage has at least the host seat');
    this.#maxSize = options.maxSize;
    this.#ttlMs = options.ttlMs;
    this.#maxPending = options.maxPending;
    this.#now = options.now ?? Date.now;
  }

  isOnStage(participantId: string): boolean {
    return this.#host?.participantId === participantId || this.#cohosts.has(participantId);
  }

  snapshot(): StageSnapshot {
    this.sweep();
    const pending = (m: Map<string, number>) => [...m].map(([participantId, expiresAt]) => ({ participantId, expiresAt }));
    return {
      maxSize: this.#maxSize,
      seats: [...(this.#host ? [this.#host] : []), ...this.#cohosts.values()].map((s) => ({ ...s, muted: { ...s.muted } })),
      requests: pending(this.#requests),
      invites: pending(this.#invites),
    };
  }

  setHost(participantId: string | undefined): void {
    this.#host = participantId ? seat(participantId, 'host') : undefined;
    if (participantId) this.#dropPending(participantId);
    this.emit('changed');
  }

  /** A viewer asks to come on stage. */
  request(viewerId: string): void {
    this.#assertViewer(viewerId);
    if (this.#pendingAt(this.#invites, viewerId) !== undefined) return this.#seat(viewerId);
    this.#assertSeatFree();
    this.#assertRoomFor(this.#requests, viewerId, 'requests');
    this.#requests.set(viewerId, this.#now() + this.#ttlMs);
    this.emit('changed');
  }

  /** A viewer withdraws their request. */
  cancelRequest(viewerId: string): void {
    this.#answer(this.#requests, 'REQUEST_NOT_FOUND', viewerId, false);
  }

  /** The host invites a viewer. */
  invite(viewerId: string): void {
    this.#assertViewer(viewerId);
    if (this.#pendingAt(this.#requests, viewerId) !== undefined) return this.#seat(viewerId);
    this.#assertSeatFree();
    this.#assertRoomFor(this.#invites, viewerId, 'invitations');
    this.#invites.set(viewerId, this.#now() + this.#ttlMs);
    this.emit('changed');
  }

  /** The host answers a viewer's request. */
  answerRequest(viewerId: string, accept: boolean): void {
    this.#answer(this.#requests, 'REQUEST_NOT_FOUND', viewerId, accept);
  }

  /** A viewer answers the host's invitation. */
  answerInvite(viewerId: string, accept: boolean): void {
    this.#answer(this.#invites, 'INVITE_NOT_FOUND', viewerId, accept);
  }

  /** A co-host steps down. */
  leave(cohostId: string): void {
    this.#unseat(cohostId, 'left');
  }

  /** The host ends a co-host's turn. */
  remove(cohostId: string): void {
    this.#unseat(cohostId, 'removed');
  }

  setMuted(participantId: string, kind: MediaKind, muted: boolean): void {
    const s = this.#host?.participantId === participantId ? this.#host : this.#cohosts.get(participantId);
    if (!s) throw new StateError('NOT_ON_STAGE', 'this participant is not on stage');
    if (s.muted[kind] === muted) return;
    s.muted[kind] = muted;
    this.emit('changed');
  }

  /** The participant left the room: drop their seat and anything pending. */
  forget(participantId: string): void {
    const hadPending = this.#dropPending(participantId);
    if (this.#cohosts.has(participantId)) this.#unseat(participantId, 'gone');
    else if (hadPending) this.emit('changed');
  }

  /** The show ended: everyone steps down, nothing stays pending. */
  clear(): void {
    for (const id of [...this.#cohosts.keys()]) {
      this.#cohosts.delete(id);
      this.emit('unseated', id, 'show_ended');
    }
    this.#requests.clear();
    this.#invites.clear();
    this.emit('changed');
  }

  /** Expires old requests and invitations; returns whether anything expired. */
  sweep(): boolean {
    const now = this.#now();
    let expired = false;
    for (const [kind, map] of [['request', this.#requests], ['invite', this.#invites]] as const) {
      for (const [id, expiresAt] of map) {
        if (expiresAt > now) continue;
        map.delete(id);
        expired = true;
        this.emit('expired', kind, id);
      }
    }
    if (expired) this.emit('changed');
    return expired;
  }

  #answer(map: Map<string, number>, missing: 'REQUEST_NOT_FOUND' | 'INVITE_NOT_FOUND', viewerId: string, accept: boolean): void {
    if (this.#pendingAt(map, viewerId) === undefined) {
      throw new NotFoundError(missing, 'nothing open for this participant (it may have expired)');
    }
    if (accept) return this.#seat(viewerId);
    map.delete(viewerId);
    this.emit('changed');
  }

  #seat(viewerId: string): void {
    this.#assertSeatFree();
    this.#dropPending(viewerId);
    this.#cohosts.set(viewerId, seat(viewerId, 'cohost'));
    this.emit('seated', viewerId);
    this.emit('changed');
  }

  #unseat(cohostId: string, reason: UnseatReason): void {
    if (!this.#cohosts.delete(cohostId)) throw new StateError('NOT_ON_STAGE', 'this participant is not a co-host');
    this.emit('unseated', cohostId, reason);
    this.emit('changed');
  }

  #assertViewer(participantId: string): void {
    if (this.isOnStage(participantId)) throw new StateError('ALREADY_ON_STAGE', 'already on stage');
  }

  #assertSeatFree(): void {
    if (1 + this.#cohosts.size >= this.#maxSize) throw new StateError('STAGE_FULL', `the stage is full (${this.#maxSize} seats)`);
  }

  #assertRoomFor(map: Map<string, number>, id: string, what: string): void {
    if (map.has(id) || map.size < this.#maxPending) return;
    this.sweep();
    if (map.size >= this.#maxPending) throw new StateError('STAGE_QUEUE_FULL', `${this.#maxPending} ${what} are already open; try again later`);
  }

  /** The expiry of an open entry, or undefined when there is none (expired entries are dropped). */
  #pendingAt(map: Map<string, number>, id: string): number | undefined {
    const at = map.get(id);
    if (at === undefined) return undefined;
    if (at > this.#now()) return at;
    this.sweep();
    return undefined;
  }

  #dropPending(id: string): boolean {
    const a = this.#requests.delete(id);
    const b = this.#invites.delete(id);
    return a || b;
  }
}

function seat(participantId: string, role: 'host' | 'cohost'): StageSeat {
  return { participantId, role, muted: { audio: false, video: false } };
}
