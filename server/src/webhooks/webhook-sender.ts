import { createHmac, randomUUID } from 'node:crypto';
import type { WebhookEvent } from '@onstage/protocol';
import type { Logger } from '../logger.ts';

export type WebhookSenderOptions = {
  urls: string[];
  secret: string;
  /** Events kept per URL while it is down; past this the oldest are dropped (and counted). */
  maxQueued?: number;
  /** Retry delays double from `retryBaseMs` up to `retryMaxMs`, for as long as the event is queued. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  timeoutMs?: number;
};

/** What a delivery attempt came to, for the metrics. */
export type DeliveryResult = 'delivered' | 'failed' | 'dropped';

/** The signature header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export const SIGNATURE_HEADER = 'onstage-signature';

/** Signs a body at a time (unix seconds) with the webhook secret. */
export function signature(secret: string, body: string, t: number): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

/** One URL's events in order; `sending`, or waiting to retry (`retry` set), means it is being worked through. */
type UrlQueue = { url: string; events: WebhookEvent[]; sending: boolean; retry?: NodeJS.Timeout; failures: number };

/** An event ready to send: everything but what delivery adds. */
export type NewWebhookEvent = Omit<WebhookEvent, 'id' | 'createdAt' | 'node'>;

/**
 * Delivers webhook events to the operator's URLs: at least once, in order per URL, signed, with
 * retries and backoff while a receiver is down. Sending never waits on a receiver: events are
 * queued in memory per URL (bounded) and each URL's queue is worked through by itself.
 */
export class WebhookSender {
  readonly #o: Required<WebhookSenderOptions>;
  readonly #node: string;
  readonly #logger: Logger;
  readonly #onResult: (result: DeliveryResult) => void;
  readonly #queues: UrlQueue[];
  #closed = false;

  constructor(options: WebhookSenderOptions, node: string, logger: Logger, onResult: (result: DeliveryResult) => void) {
    this.#o = { maxQueued: 10_000, retryBaseMs: 500, retryMaxMs: 30_000, timeoutMs: 5000, ...options };
    this.#node = node;
    this.#logger = logger;
    this.#onResult = onResult;
    this.#queues = options.urls.map((url) => ({ url, events: [], sending: false, failures: 0 }));
  }

  /** Events waiting to be delivered, over all URLs. */
  get queued(): number {
    return this.#queues.reduce((n, q) => n + q.events.length, 0);
  }

  send(event: NewWebhookEvent): void {
    if (this.#closed) return;
    const full: WebhookEvent = { id: randomUUID(), createdAt: Date.now(), node: this.#node, ...event };
    for (const queue of this.#queues) {
      queue.events.push(full);
      if (queue.events.length > this.#o.maxQueued) {
        queue.events.shift();
        this.#onResult('dropped');
      }
      if (!queue.sending && !queue.retry) void this.#work(queue);
    }
  }

  /** Gives pending deliveries until `graceMs` to finish, then stops. */
  async close(graceMs = 2000): Promise<void> {
    const deadline = Date.now() + graceMs;
    while (this.queued > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    this.#closed = true;
    for (const q of this.#queues) clearTimeout(q.retry);
  }

  async #work(queue: UrlQueue): Promise<void> {
    queue.retry = undefined;
    queue.sending = true;
    while (queue.events.length > 0 && !this.#closed) {
      const event = queue.events[0]!;
      if (!(await this.#deliver(queue.url, event))) {
        this.#onResult('failed');
        const delay = Math.min(this.#o.retryMaxMs, this.#o.retryBaseMs * 2 ** queue.failures++);
        queue.retry = setTimeout(() => void this.#work(queue), delay);
        break;
      }
      // Dropped meanwhile (the queue overflowed): it is gone anyway.
      if (queue.events[0] === event) queue.events.shift();
      queue.failures = 0;
      this.#onResult('delivered');
    }
    queue.sending = false;
  }

  async #deliver(url: string, event: WebhookEvent): Promise<boolean> {
    const body = JSON.stringify(event);
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signature(this.#o.secret, body, Math.floor(Date.now() / 1000)) },
        body,
        signal: AbortSignal.timeout(this.#o.timeoutMs),
      });
      await res.body?.cancel();
      if (res.ok) return true;
      this.#logger.warn({ url, status: res.status, event: event.event }, 'webhook refused; will retry');
    } catch (err) {
      this.#logger.warn({ url, err: (err as Error).message, event: event.event }, 'webhook not delivered; will retry');
    }
    return false;
  }
}
