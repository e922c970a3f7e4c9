import type { MediaKind, Role, ServerEvent, ServerEventName } from '@onstage/protocol';

/** Delivers a server event to this participant's client. */
export type Notify = <N extends ServerEventName>(name: N, body: ServerEvent<N>) => void;

/** One live connection of a participant (a socket); a reconnect brings a new one. */
export type Connection = {
  /** Unique among this node's connections (a socket's id). */
  readonly id: string;
  notify: Notify;
  /** Drops the connection (the participant was replaced or removed). */
  close(): void;
  /** Set when the connection is on another node: room-wide events go to that node once, for all its connections. */
  readonly relay?: Relay;
};

/** Delivers room-wide events to the connections of one room on one other node (which fans them out). */
export type Relay = {
  emit<N extends ServerEventName>(name: N, body: ServerEvent<N>, exceptConnectionId?: string): void;
};

/**
 * What the room asks of a participant's media, wherever it lives: here (`PeerMedia`), or on the
 * edge node that serves the participant's connection.
 */
export type ParticipantMedia = {
  /** Stops what the participant sends (they left the stage). */
  closeProducers(): void;
  setPaused(kind: MediaKind, paused: boolean): Promise<void>;
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
  #media: ParticipantMedia;
  #connection: Connection | undefined;
  #left = false;

  constructor(init: { id: string; seq: number; identity: string; role: Role; displayName: string; media: ParticipantMedia; connection: Connection }) {
    this.id = init.id;
    this.seq = init.seq;
    this.identity = init.identity;
    this.role = init.role;
    this.displayName = init.displayName;
    this.#media = init.media;
    this.#connection = init.connection;
  }

  get media(): ParticipantMedia {
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
  resume(connection: Connection, media: ParticipantMedia): void {
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
