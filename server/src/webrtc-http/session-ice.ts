import { randomBytes } from 'node:crypto';
import type { TransportOptions } from '@onstage/protocol';
import { InvalidInputError } from '../errors.ts';
import { writeIceRestartFragment } from './sdp-answer.ts';

type IceParameters = TransportOptions['iceParameters'];

/** What a PATCH did: trickled candidates (nothing to answer), or an ICE restart (answered with a fragment). */
export type PatchResult = { restarted: false } | { restarted: true; fragment: string };

/**
 * The ICE side of a WHIP or WHEP session (RFC 9725 section 4.3): the client's credentials, the
 * session's entity tag, and restarts. Trickled candidates are of no use to an ICE-lite server
 * (it learns the client's address from its checks), so only restarts change anything.
 */
export class SessionIce {
  #remote: { usernameFragment: string; password: string };
  #etag = newEtag();
  readonly #candidates: TransportOptions['iceCandidates'];
  readonly #firstSection: { kind: string; mid: string };

  constructor(remote: { usernameFragment: string; password: string }, candidates: TransportOptions['iceCandidates'], firstSection: { kind: string; mid: string }) {
    this.#remote = remote;
    this.#candidates = candidates;
    this.#firstSection = firstSection;
  }

  get etag(): string {
    return this.#etag;
  }

  /**
   * An SDP fragment from a PATCH: new ICE credentials restart ICE (`restart` gives this side's new
   * ones); anything else is trickle. A restart needs `If-Match: *`; otherwise a stale tag is refused.
   */
  async patch(fragment: string, ifMatch: string | undefined, restart: () => Promise<IceParameters>): Promise<PatchResult> {
    const ufrag = /^a=ice-ufrag:(\S+)/m.exec(fragment)?.[1];
    const pwd = /^a=ice-pwd:(\S+)/m.exec(fragment)?.[1];
    const restarting = ufrag !== undefined && pwd !== undefined && (ufrag !== this.#remote.usernameFragment || pwd !== this.#remote.password);
    if (!restarting) {
      if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== this.#etag) throw new InvalidInputError('PRECONDITION_FAILED', 'If-Match does not match this session (a newer ICE restart happened)');
      return { restarted: false };
    }
    if (ifMatch !== '*') throw new InvalidInputError('PRECONDITION_REQUIRED', 'an ICE restart needs If-Match: *');
    const ice = await restart();
    this.#remote = { usernameFragment: ufrag, password: pwd };
    this.#etag = newEtag();
    return { restarted: true, fragment: writeIceRestartFragment(ice, this.#candidates, this.#firstSection) };
  }
}

function newEtag(): string {
  return `"${randomBytes(9).toString('base64url')}"`;
}
