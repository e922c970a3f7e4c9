import { randomBytes } from 'node:crypto';
import type { MediaKind, Role, RtpCapabilities, ServerEvent, ServerEventName, TokenClaims, TransportOptions } from '@onstage/protocol';
import type { Logger } from '../logger.ts';
import type { Direction } from '../media/peer-media.ts';
import type { Connection, Participant } from '../rooms/participant.ts';
import type { Room } from '../rooms/room.ts';
import type { Offer } from './sdp-offer.ts';
import { SessionIce, type PatchResult } from './session-ice.ts';

/** What a session does with its one transport: publish an encoder's tracks (WHIP) or play the show (WHEP). */
export type SessionPlan = {
  role: Role;
  direction: Direction;
  /** The client's offer, read: its DTLS and ICE, and the sections the room takes. */
  offer: Offer<{ mid: string; kind: MediaKind }>;
  /** Codecs under the client's own payload types, when it fixed them (a player): its media gets a router of its own. */
  ownCodecs?: RtpCapabilities['codecs'];
  /** Sets up the media on the connected transport; returns the SDP answer. */
  run(participant: Participant, transport: TransportOptions): Promise<string>;
  /** Events the room sends the participant (a player follows the host's producers with them). */
  onEvent?<N extends ServerEventName>(name: N, body: ServerEvent<N>): void;
};

/**
 * One WHIP or WHEP session (RFC 9725 and the WHEP draft): a participant of the room whose client
 * speaks HTTP, with one WebRTC transport. It ends on DELETE (the participant leaves: for an
 * encoder, the show ends) or when the room lets the participant go (replaced by a new session of
 * the same identity, removed, room closed). When the client's connection goes away without a
 * DELETE the participant is away for the room's grace period (a new POST with the same token
 * resumes them; a late DELETE, which clients often send after closing their connection, still
 * takes effect at once).
 */
export class HttpSession {
  readonly id = randomBytes(16).toString('base64url');
  readonly roomId: string;
  readonly identity: string;
  readonly #room: Room;
  readonly #participant: Participant;
  readonly #connection: Connection;
  readonly #transportId: string;
  readonly #ice: SessionIce;
  readonly #logger: Logger;
  readonly #onEnd: (session: HttpSession) => void;
  #ended = false;

  private constructor(init: {
    room: Room;
    participant: Participant;
    connection: Connection;
    transport: TransportOptions;
    ice: SessionIce;
    identity: string;
    logger: Logger;
    onEnd: (session: HttpSession) => void;
  }) {
    this.roomId = init.room.id;
    this.identity = init.identity;
    this.#room = init.room;
    this.#participant = init.participant;
    this.#connection = init.connection;
    this.#transportId = init.transport.transportId;
    this.#ice = init.ice;
    this.#logger = init.logger;
    this.#onEnd = init.onEnd;
  }

  /** Joins the room (resuming the participant of the same identity) and runs the plan; returns the session and its SDP answer. */
  static async start(room: Room, claims: TokenClaims, plan: SessionPlan, logger: Logger, onEnd: (session: HttpSession) => void): Promise<{ session: HttpSession; answer: string }> {
    let session: HttpSession | undefined;
    const connection: Connection = {
      id: `http-${randomBytes(8).toString('hex')}`,
      notify: (name, body) => plan.onEvent?.(name, body),
      close: () => {
        if (session) session.#end('replaced or removed by the room');
      },
    };
    const { participant } = await room.enter({
      identity: claims.sub,
      displayName: claims.name ?? claims.sub,
      role: plan.role,
      connection,
      ...(plan.ownCodecs ? { ownCodecs: plan.ownCodecs } : {}),
    });
    const log = logger.child({ room: room.id, peer: participant.id });
    try {
      const transport = await room.createTransport(participant, plan.direction);
      await room.connectTransport(participant, transport.transportId, plan.offer.dtlsParameters);
      const answer = await plan.run(participant, transport);
      const first = plan.offer.sections.flatMap((s) => ('accepted' in s ? [s.accepted] : []))[0]!;
      const ice = new SessionIce(plan.offer.ice, transport.iceCandidates, first);
      const current = new HttpSession({ room, participant, connection, transport, ice, identity: claims.sub, logger: log, onEnd });
      session = current;
      void room.transportEnded(participant, transport.transportId).then((why) => current.#lost(why));
      return { session: current, answer };
    } catch (err) {
      room.leave(participant);
      throw err;
    }
  }

  get etag(): string {
    return this.#ice.etag;
  }

  /** Nothing more to do with this session: it ended, or its participant is gone from the room. */
  get over(): boolean {
    return this.#ended || this.#participant.left;
  }

  /** A PATCH: trickle, or an ICE restart. */
  async patch(fragment: string, ifMatch: string | undefined): Promise<PatchResult> {
    const result = await this.#ice.patch(fragment, ifMatch, () => this.#room.restartIce(this.#participant, this.#transportId));
    if (result.restarted) this.#logger.info('ICE restarted');
    return result;
  }

  /** DELETE: the client stops; its participant leaves the room. */
  stop(): void {
    if (this.over) return;
    this.#room.leave(this.#participant);
    this.#end('stopped by the client (DELETE)');
  }

  /** The client's connection went away without a DELETE: the participant keeps the room's grace period to come back. */
  #lost(why: string): void {
    if (this.over) return;
    this.#room.disconnect(this.#participant, this.#connection);
    this.#logger.info({ why }, "the client's connection ended; the participant is away");
  }

  #end(why: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#logger.info({ why }, 'session ended');
    this.#onEnd(this);
  }
}
