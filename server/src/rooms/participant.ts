import type { Role, ServerEvent, ServerEventName } from '@onstage/protocol';
import type { PeerMedia } from '../media/peer-media.ts';

/** Delivers a server event to this participant's client. */
export type Notify = <N extends ServerEventName>(name: N, body: ServerEvent<N>) => void;

/** One live connection of a participant (a socket); a reconnect brings a new one. */
export type Connection = {
  /** Unique among this node's connections (a socket's id). */
  readonly id: string;
  notify: Notify;
  /** Drops the connection (the participant was replaced or removed). */
  close(): void;
};

/**
 * One person in a room: identity, role, media, and the connection that reaches their client. A
 * participant outlives a dropped connection for the room's grace period, and a reconnect of the
 * same identity attaches to the same participant.
 */
export class Participant {
  readonly id: string;
  /** Join order in the room (the cursor of paged participant lists). */
  readonly seq: number;
  readonly identity: string;
  readonly role: Role;
  readonly displayName: string;
  #media: PeerMedia;
  #connection: Connection | undefined;
  #left = false;

  constructor(init: { id: string; seq: number; identity: string; role: Role; displayName: string; media: PeerMedia; connection: Connection }) {
    this.id = init.id;
    this.seq = init.seq;
    this.identity = init.identity;
    this.role = init.role;
    this.displayName = init.displayName;
    this.#media = init.media;
    this.#connection = init.connection;
  }

  get media(): PeerMedia {
    return this.#media;
  }

  /** The connection that reaches the client now; undefined while away. */
  get connection(): Connection | undefined {
    return this.#connection;
  }

  get left(): boolean {
    return this.#left;
  }

  /** Dropped, and waiting for a reconnect. */
  get away(): boolean {
    return this.#connection === undefined;
  }

  isConnectedThrough(connection: Connection): boolean {
    return !this.#left && this.#connection === connection;
  }

  notify: Notify = (name, body) => {
    if (!this.#left) this.#connection?.notify(name, body);
  };

  /** A reconnect: the new connection and fresh media replace the old ones (which are closed). */
  resume(connection: Connection, media: PeerMedia): void {
    const old = this.#connection;
    this.#connection = connection;
    this.#media.close();
    this.#media = media;
    if (old) {
      old.notify('removed', { reason: 'replaced' });
      old.close();
    }
  }

  /** The connection dropped; returns false when it was not the current one (already replaced). */
  detach(connection: Connection): boolean {
    if (this.#connection !== connection) return false;
    this.#connection = undefined;
    return true;
  }

  /** Called by the room only: closes the participant's media; idempotent. */
  markLeft(): void {
    if (this.#left) return;
    this.#left = true;
    this.#media.close();
  }

  /**
   * Closes the connection. A participant still in the room reconnects and resumes (its media was lost
   * with a worker); one who has left (a ban) is simply disconnected.
   */
  dropConnection(): void {
    this.#connection?.close();
  }
}
