import type { ParticipantInfo, ServerEvent } from '@onstage/protocol';
import type { SignallingChannel } from './signalling-channel.ts';

/** (host) Everyone in the room, in join order: paged in at join, kept up to date from the server's changes. */
export class ParticipantRoster {
  readonly #participants = new Map<string, ParticipantInfo>();

  get list(): ParticipantInfo[] {
    return [...this.#participants.values()];
  }

  apply({ updated, left }: ServerEvent<'participantsUpdated'>): void {
    for (const p of updated) this.#participants.set(p.participantId, p);
    for (const id of left) this.#participants.delete(id);
  }

  /** Pages through the list; changes that arrive meanwhile are newer, and win. */
  async load(channel: SignallingChannel, stillCurrent: () => boolean): Promise<void> {
    this.#participants.clear();
    const seenChange = new Set<string>();
    const onChange = ({ updated, left }: ServerEvent<'participantsUpdated'>) => {
      for (const p of updated) seenChange.add(p.participantId);
      for (const id of left) seenChange.add(id);
    };
    channel.on('participantsUpdated', onChange);
    try {
      let after: string | null | undefined;
      do {
        const page = await channel.request('listParticipants', after ? { after } : {});
        for (const p of page.participants) if (!seenChange.has(p.participantId)) this.#participants.set(p.participantId, p);
        after = page.next;
      } while (after && stillCurrent());
    } finally {
      channel.off('participantsUpdated', onChange);
    }
  }

  clear(): void {
    this.#participants.clear();
  }
}
