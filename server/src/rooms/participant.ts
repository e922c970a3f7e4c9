import type { Role, ServerEvent, ServerEventName } from '@onstage/protocol';
import type { PeerMedia } from '../media/peer-media.ts';

/** Delivers a server event to this participant's client. */
export type Notify = <N extends ServerEventName>(name: N, body: ServerEvent<N>) => void;

/** One person in a room: who they are, their role, their media, and how to reach their client. */
export class Participant {
  readonly id: string;
  readonly role: Role;
  readonly displayName: string | undefined;
  readonly media: PeerMedia;
  readonly #notify: Notify;
  #left = false;

  constructor(init: { id: string; role: Role; displayName: string | undefined; media: PeerMedia; notify: Notify }) {
    this.id = init.id;
    this.role = init.role;
    this.displayName = init.displayName;
    this.media = init.media;
    this.#notify = init.notify;
  }

  get left(): boolean {
    return this.#left;
  }

  notify: Notify = (name, body) => {
    if (!this.#left) this.#notify(name, body);
  };

  /** Called by the room only: closes the participant's media; idempotent. */
  markLeft(): void {
    if (this.#left) return;
    this.#left = true;
    this.media.close();
  }
}
