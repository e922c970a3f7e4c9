import { randomUUID } from 'node:crypto';
import type { ChatMessage } from '@onstage/protocol';
import { ForbiddenError, InvalidInputError, NotFoundError, RateLimitError } from '../errors.ts';
import { TokenBucket } from './token-bucket.ts';

export type ChatOptions = {
  maxLength: number;
  historySize: number;
  /** Messages a person may send at once, and refilled per second. */
  burst: number;
  perSecond: number;
  /** Messages the whole room may carry at once, and refilled per second (each goes to everyone). */
  roomBurst: number;
  roomPerSecond: number;
  /** The same text from the same person within this window is refused. */
  duplicateWindowMs: number;
  now?: () => number;
};

export type ChatAuthor = { participantId: string; identity: string; displayName: string };

/**
 * A room's chat (弹幕): limits, rate limits and duplicate suppression per identity (so reconnecting
 * resets nothing), a bounded history for newcomers, deletions and bans. Pure: no sockets.
 */
export class Chat {
  readonly #options: ChatOptions;
  readonly #now: () => number;
  readonly #history: ChatMessage[] = [];
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #recent = new Map<string, { text: string; at: number }[]>();
  readonly #banned = new Set<string>();
  readonly #roomBucket: TokenBucket;
  #sweptAt = 0;

  constructor(options: ChatOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#roomBucket = new TokenBucket(options.roomBurst, options.roomPerSecond, this.#now());
  }

  history(): ChatMessage[] {
    return [...this.#history];
  }

  isBanned(identity: string): boolean {
    return this.#banned.has(identity);
  }

  post(author: ChatAuthor, rawText: string): ChatMessage {
    if (this.#banned.has(author.identity)) throw new ForbiddenError('you are banned from this room', 'BANNED');
    const text = rawText.trim();
    if (text.length === 0) throw new InvalidInputError('INVALID_PAYLOAD', 'empty message');
    if (text.length > this.#options.maxLength) {
      throw new InvalidInputError('INVALID_PAYLOAD', `messages are at most ${this.#options.maxLength} characters`);
    }
    const now = this.#now();
    this.#forgetQuiet(now);
    const key = normalise(text);
    const recent = (this.#recent.get(author.identity) ?? []).filter((r) => now - r.at < this.#options.duplicateWindowMs);
    if (recent.some((r) => r.text === key)) {
      throw new RateLimitError('DUPLICATE_MESSAGE', 'you just sent the same message');
    }
    let bucket = this.#buckets.get(author.identity);
    if (!bucket) this.#buckets.set(author.identity, (bucket = new TokenBucket(this.#options.burst, this.#options.perSecond, now)));
    if (!bucket.take(now)) throw new RateLimitError('RATE_LIMITED', 'slow down: too many messages');
    if (!this.#roomBucket.take(now)) throw new RateLimitError('RATE_LIMITED', 'the room chat is busy; try again in a moment');
    recent.push({ text: key, at: now });
    this.#recent.set(author.identity, recent);

    const message: ChatMessage = {
      messageId: randomUUID(),
      participantId: author.participantId,
      displayName: author.displayName,
      text,
      sentAt: now,
    };
    this.#history.push(message);
    if (this.#history.length > this.#options.historySize) this.#history.shift();
    return message;
  }

  /**
   * Drops what is kept per person once it no longer matters (bucket full again, no recent text), at
   * most once per duplicate window, so a long show with a changing audience does not grow it.
   */
  #forgetQuiet(now: number): void {
    if (now - this.#sweptAt < this.#options.duplicateWindowMs) return;
    this.#sweptAt = now;
    for (const [identity, recent] of this.#recent) {
      if (recent.some((r) => now - r.at < this.#options.duplicateWindowMs)) continue;
      if (!this.#buckets.get(identity)?.isFull(now)) continue;
      this.#recent.delete(identity);
      this.#buckets.delete(identity);
    }
  }

  /** People with something kept about them (for tests). */
  get tracked(): number {
    return this.#buckets.size;
  }

  delete(messageId: string): void {
    const i = this.#history.findIndex((m) => m.messageId === messageId);
    if (i < 0) throw new NotFoundError('MESSAGE_NOT_FOUND', 'no such message in the recent history');
    this.#history.splice(i, 1);
  }

  /** Bans an identity for the life of the room and removes its messages from the history. */
  ban(identity: string, participantIds: string[]): void {
    this.#banned.add(identity);
    for (let i = this.#history.length - 1; i >= 0; i--) {
      if (participantIds.includes(this.#history[i]!.participantId)) this.#history.splice(i, 1);
    }
  }
}

/** Case, spacing and repeated punctuation do not make a message new. */
function normalise(text: string): string {
  return text.toLowerCase().replace(/\s+/g, ' ').replace(/([!?.])\1+/g, '$1');
}
