import type { RequestName } from '@onstage/protocol';
import { TokenBucket } from '../rooms/token-bucket.ts';

type Limit = { burst: number; perSecond: number };

/**
 * How often one connection may send each request kind: a burst, then a steady rate. Sized for what
 * a real client does (a viewer joining consumes every stage track at once; a host answers many
 * requests in a row), so only a misbehaving client meets them. The type makes a missing one a
 * compile error.
 */
export const REQUEST_LIMITS: { [N in RequestName]: Limit } & { unknown: Limit } = {
  join: { burst: 3, perSecond: 0.5 },
  createTransport: { burst: 6, perSecond: 1 },
  connectTransport: { burst: 6, perSecond: 1 },
  produce: { burst: 8, perSecond: 2 },
  closeProducer: { burst: 8, perSecond: 2 },
  consume: { burst: 40, perSecond: 10 },
  resumeConsumer: { burst: 40, perSecond: 10 },
  leave: { burst: 3, perSecond: 0.5 },
  requestStage: { burst: 4, perSecond: 0.5 },
  cancelStageRequest: { burst: 4, perSecond: 0.5 },
  answerInvite: { burst: 4, perSecond: 0.5 },
  leaveStage: { burst: 4, perSecond: 0.5 },
  inviteToStage: { burst: 20, perSecond: 5 },
  answerStageRequest: { burst: 20, perSecond: 5 },
  removeFromStage: { burst: 20, perSecond: 5 },
  mute: { burst: 20, perSecond: 5 },
  // The chat's own per-person limit (CHAT_BURST, CHAT_PER_SECOND) is the one users meet.
  sendChat: { burst: 20, perSecond: 5 },
  deleteChat: { burst: 20, perSecond: 5 },
  ban: { burst: 20, perSecond: 5 },
  listParticipants: { burst: 30, perSecond: 10 },
  renewToken: { burst: 3, perSecond: 0.2 },
  setPreferredQuality: { burst: 6, perSecond: 1 },
  unknown: { burst: 10, perSecond: 1 },
};

/** One connection's buckets, made on first use of each request kind. */
export class RequestLimiter {
  readonly #buckets = new Map<keyof typeof REQUEST_LIMITS, TokenBucket>();
  readonly #now: () => number;

  constructor(now: () => number = performance.now.bind(performance)) {
    this.#now = now;
  }

  /** Takes one request of this kind; false when the connection is over its limit. */
  take(kind: keyof typeof REQUEST_LIMITS): boolean {
    const now = this.#now();
    let bucket = this.#buckets.get(kind);
    if (!bucket) {
      const { burst, perSecond } = REQUEST_LIMITS[kind];
      this.#buckets.set(kind, (bucket = new TokenBucket(burst, perSecond, now)));
    }
    return bucket.take(now);
  }
}
