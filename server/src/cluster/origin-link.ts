import { EventEmitter } from 'node:events';
import { io, type Socket } from 'socket.io-client';
import { RemoteError, UnavailableError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { LINK_NAMESPACE, LINK_TIMEOUT_MS, nodeCredentials, type LinkAck, type LinkMessages, type LinkRequest, type LinkRequestName } from './link-protocol.ts';

type OriginLinkEvents = { [K in keyof LinkMessages]: Parameters<LinkMessages[K]> } & {
  /** The connection to the origin node dropped (it reconnects by itself while someone uses it). */
  lost: [];
};

/**
 * An edge node's connection to one origin node (shared by every room of that origin served
 * here): requests with answers, and the origin's messages as events.
 */
export class OriginLink extends EventEmitter<OriginLinkEvents> {
  readonly nodeId: string;
  readonly url: string;
  readonly #socket: Socket;
  readonly #logger: Logger;

  readonly linkUrl: string;

  constructor(origin: { nodeId: string; url: string; linkUrl: string }, self: { nodeId: string; secret: string }, logger: Logger) {
    super();
    this.setMaxListeners(0);
    this.nodeId = origin.nodeId;
    this.url = origin.url;
    this.linkUrl = origin.linkUrl;
    this.#logger = logger.child({ origin: origin.nodeId });
    this.#socket = io(`${origin.linkUrl}${LINK_NAMESPACE}`, {
      transports: ['websocket'],
      reconnectionDelay: 250,
      reconnectionDelayMax: 2000,
      auth: (cb) => cb(nodeCredentials(self.secret, self.nodeId)),
    });
    this.#socket.on('connect', () => this.#logger.info('connected to the origin node'));
    this.#socket.on('disconnect', (reason) => {
      this.#logger.warn({ reason }, 'lost the connection to the origin node');
      this.emit('lost');
    });
    for (const name of ['event', 'notify', 'drop', 'media', 'pipe', 'roomClosed'] as const) {
      this.#socket.on(name, (m: unknown) => {
        (this.emit as (n: string, m: unknown) => boolean)(name, m);
      });
    }
  }

  get connected(): boolean {
    return this.#socket.connected;
  }

  /** Resolves once the link is up; fails (UNAVAILABLE) as soon as an attempt to reach the origin fails. */
  async ready(): Promise<void> {
    if (!this.#socket.connected) await this.#connected();
  }

  /** Sends a request and returns the origin's answer, or throws its error (with its code). */
  async request<N extends LinkRequestName>(name: N, body: LinkRequest<N>): Promise<unknown> {
    await this.ready();
    let ack: LinkAck;
    try {
      ack = (await this.#socket.timeout(LINK_TIMEOUT_MS).emitWithAck(name, body)) as LinkAck;
    } catch {
      throw new UnavailableError(`the room's origin node ${this.nodeId} did not answer ${name} within ${LINK_TIMEOUT_MS} ms`);
    }
    if (!ack.ok) throw new RemoteError(ack.error);
    return ack.data;
  }

  close(): void {
    this.#socket.disconnect();
  }

  /** Waits for the link; a refused or failed attempt fails at once (the caller's client retries, perhaps elsewhere). */
  #connected(): Promise<void> {
    return new Promise((resolve, reject) => {
      const settle = (err?: Error) => {
        clearTimeout(timer);
        this.#socket.off('connect', done);
        this.#socket.off('connect_error', failed);
        if (err) reject(err);
        else resolve();
      };
      const unreachable = (why: string) => new UnavailableError(`cannot reach the room's origin node ${this.nodeId} at ${this.linkUrl} (${why})`);
      const timer = setTimeout(() => settle(unreachable(`no connection within ${LINK_TIMEOUT_MS} ms`)), LINK_TIMEOUT_MS);
      const done = () => settle();
      const failed = (err: Error) => settle(unreachable(err.message));
      this.#socket.once('connect', done);
      this.#socket.once('connect_error', failed);
    });
  }
}
