import { randomBytes, randomInt } from 'node:crypto';
import type { TokenClaims, TransportOptions } from '@onstage/protocol';
import { InvalidInputError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Connection, Participant } from '../rooms/participant.ts';
import type { Room } from '../rooms/room.ts';
import { writeIceRestartFragment, writePublishAnswer } from './sdp-answer.ts';
import { readPublishOffer } from './sdp-offer.ts';

/**
 * One encoder publishing a room's show over WHIP (RFC 9725): the host's participant, with one
 * WebRTC transport and a producer per accepted track, as if the host page had published them.
 * It ends on DELETE (the show ends) or when the room lets the host go (replaced by a new session
 * of the same identity, removed, room closed). When the encoder's connection goes away without a
 * DELETE the host is away for the room's grace period (a new POST resumes them; a late DELETE,
 * which encoders often send after closing their connection, still ends the show at once).
 */
export class WhipSession {
  readonly id = randomBytes(16).toString('base64url');
  readonly roomId: string;
  readonly identity: string;
  readonly #room: Room;
  readonly #participant: Participant;
  readonly #connection: Connection;
  readonly #transportId: string;
  /** This side's candidates and the first bundled section, repeated in the answer to an ICE restart. */
  readonly #candidates: TransportOptions['iceCandidates'];
  readonly #firstSection: { kind: string; mid: string };
  readonly #logger: Logger;
  #remoteIce: { usernameFragment: string; password: string };
  #etag: string;
  #ended = false;
  readonly #onEnd: (session: WhipSession) => void;

  private constructor(init: {
    room: Room;
    participant: Participant;
    connection: Connection;
    transportId: string;
    candidates: TransportOptions['iceCandidates'];
    firstSection: { kind: string; mid: string };
    identity: string;
    remoteIce: { usernameFragment: string; password: string };
    logger: Logger;
    onEnd: (session: WhipSession) => void;
  }) {
    this.roomId = init.room.id;
    this.identity = init.identity;
    this.#room = init.room;
    this.#participant = init.participant;
    this.#connection = init.connection;
    this.#transportId = init.transportId;
    this.#candidates = init.candidates;
    this.#firstSection = init.firstSection;
    this.#remoteIce = init.remoteIce;
    this.#logger = init.logger;
    this.#onEnd = init.onEnd;
    this.#etag = newEtag();
  }

  /**
   * Joins the room as its host (resuming the host of the same identity, e.g. an encoder that
   * reconnects) and publishes what the offer sends; returns the session and its SDP answer.
   */
  static async start(room: Room, claims: TokenClaims, offerSdp: string, logger: Logger, onEnd: (session: WhipSession) => void): Promise<{ session: WhipSession; answer: string }> {
    const offer = readPublishOffer(offerSdp, room.rtpCapabilities);
    let session: WhipSession | undefined;
    const connection: Connection = {
      id: `whip-${randomBytes(8).toString('hex')}`,
      // An encoder has no use for room events.
      notify: () => undefined,
      close: () => {
        if (session) session.#end('replaced or removed by the room');
      },
    };
    const { participant } = await room.enter({ identity: claims.sub, displayName: claims.name ?? claims.sub, role: 'host', connection });
    const log = logger.child({ room: room.id, peer: participant.id, ingest: 'whip' });
    try {
      const transport = await room.createTransport(participant, 'send');
      await room.connectTransport(participant, transport.transportId, offer.dtlsParameters);
      for (const section of offer.sections) {
        if ('rejected' in section) {
          log.info({ mid: section.rejected.mid, kind: section.rejected.kind, reason: section.rejected.reason }, 'offer section not taken');
          continue;
        }
        const { kind, rtpParameters, rids } = section.accepted;
        const { producerId } = await room.produce(participant, transport.transportId, kind, rtpParameters);
        log.info({ producerId, kind, codec: rtpParameters.codecs[0]?.mimeType, simulcast: rids }, 'publishing');
      }
      const firstSection = offer.sections.flatMap((x) => ('accepted' in x ? [x.accepted] : []))[0]!;
      session = new WhipSession({
        room,
        participant,
        connection,
        transportId: transport.transportId,
        candidates: transport.iceCandidates,
        firstSection,
        identity: claims.sub,
        remoteIce: offer.ice,
        logger: log,
        onEnd,
      });
      const current = session;
      void room.transportEnded(participant, transport.transportId).then((why) => current.#lost(why));
      return { session, answer: writePublishAnswer(offer, transport, randomInt(2 ** 31)) };
    } catch (err) {
      room.leave(participant);
      throw err;
    }
  }

  get etag(): string {
    return this.#etag;
  }

  /** Nothing more to do with this session: it ended, or its host is gone from the room. */
  get over(): boolean {
    return this.#ended || this.#participant.left;
  }

  /**
   * A PATCH with an SDP fragment: new ICE credentials restart ICE (answered with this side's new
   * ones), anything else is trickled candidates, which an ICE-lite server has no use for.
   * `ifMatch` follows RFC 9725: a restart needs `*`; otherwise a stale entity tag is refused.
   */
  async patch(fragment: string, ifMatch: string | undefined): Promise<{ restarted: false } | { restarted: true; fragment: string }> {
    const ufrag = /^a=ice-ufrag:(\S+)/m.exec(fragment)?.[1];
    const pwd = /^a=ice-pwd:(\S+)/m.exec(fragment)?.[1];
    const restart = ufrag !== undefined && pwd !== undefined && (ufrag !== this.#remoteIce.usernameFragment || pwd !== this.#remoteIce.password);
    if (!restart) {
      if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== this.#etag) throw new InvalidInputError('PRECONDITION_FAILED', 'If-Match does not match this session (a newer ICE restart happened)');
      return { restarted: false };
    }
    if (ifMatch !== '*') throw new InvalidInputError('PRECONDITION_REQUIRED', 'an ICE restart needs If-Match: *');
    const ice = await this.#room.restartIce(this.#participant, this.#transportId);
    this.#remoteIce = { usernameFragment: ufrag, password: pwd };
    this.#etag = newEtag();
    this.#logger.info('ICE restarted');
    return { restarted: true, fragment: writeIceRestartFragment(ice, this.#candidates, this.#firstSection) };
  }

  /** DELETE: the encoder stops; the show ends. */
  stop(): void {
    if (this.over) return;
    this.#room.leave(this.#participant);
    this.#end('stopped by the encoder (DELETE)');
  }

  /** The encoder's connection went away without a DELETE: the host keeps the room's grace period to come back. */
  #lost(why: string): void {
    if (this.over) return;
    this.#room.disconnect(this.#participant, this.#connection);
    this.#logger.info({ why }, "the encoder's connection ended; the host is away");
  }

  #end(why: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#logger.info({ why }, 'WHIP session ended');
    this.#onEnd(this);
  }
}

function newEtag(): string {
  return `"${randomBytes(9).toString('base64url')}"`;
}
