import { io, type Socket } from 'socket.io-client';
import { markJoinStep } from './join-timing.ts';
import type {
  Ack,
  ErrorBody,
  ErrorCode,
  RequestBody,
  RequestName,
  ResponseData,
  RtpCapabilities,
  ServerEvent,
  ServerEventName,
} from '@onstage/protocol';

/** An access token, or a function that fetches one. */
export type TokenSource = string | (() => Promise<string>);

/** The server refused a request or the connection (code from the protocol), or did not answer. */
export class OnstageRequestError extends Error {
  override name = 'OnstageRequestError';
  readonly code: ErrorCode | 'TIMEOUT' | 'CONNECTION_FAILED';
  readonly request: RequestName | 'connect';
  /** (ROOM_ON_OTHER_NODE) The node to connect to instead. */
  readonly redirect: string | undefined;

  constructor(request: RequestName | 'connect', code: OnstageRequestError['code'], message: string, redirect?: string) {
    super(`${request}: ${code}: ${message}`);
    this.code = code;
    this.request = request;
    this.redirect = redirect;
  }
}

/**
 * 'lost': the connection dropped and the channel is retrying; 'back': it reconnected; 'failed': the
 * server keeps refusing the token (`reason` says why) and the channel gave up.
 */
export type ConnectionChange = 'lost' | 'back' | 'failed';

/** Refused reconnects in a row (with fresh tokens) before the channel gives up. */
const MAX_REFUSED_RECONNECTS = 5;
/** Failed attempts in a row to reach a node (no answer at all) before the channel tries another node. */
const UNREACHABLE_BEFORE_FAILOVER = 2;

type Handler = (body: unknown) => void;

/**
 * Typed requests and events over a socket.io connection, which reconnects by itself after a
 * drop. A token source that is a function is asked again for every connection attempt (so an
 * expired token, or a server restarted with another secret, is replaced) and before the token
 * expires, when the server says so (`tokenExpiring`), to renew it over the live connection.
 * In a cluster the channel can move to another node (`moveTo`), and does so by itself when its
 * node stops answering and the server named other nodes (`fallbacks`).
 */
export class SignallingChannel {
  #socket: Socket;
  #url: string;
  readonly #timeoutMs: number;
  readonly #token: TokenSource;
  readonly connected: Promise<void>;
  /** The node's router capabilities, which it sends as the connection opens (`hello`). */
  readonly routerRtpCapabilities: Promise<RtpCapabilities>;
  /** Other nodes to try, in order, when this one stops answering. */
  fallbacks: readonly string[] = [];
  #closed = false;
  #wasConnected = false;
  #refusedInARow = 0;
  #unreachableInARow = 0;
  #lastToken: string | undefined;
  /** The first connection's token, asked for as the channel is made: in parallel with opening the WebSocket. */
  #firstToken: Promise<string> | undefined;
  readonly #handlers = new Map<string, Set<Handler>>();
  readonly #listeners: ((change: ConnectionChange, reason?: string) => void)[] = [];

  constructor(url: string, token: TokenSource, timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
    this.#token = token;
    this.#url = url;
    this.#firstToken = this.#freshToken();
    this.#firstToken.catch(() => undefined); // used (and its failure handled) when the socket authenticates
    this.#socket = this.#open(url);
    this.on('tokenExpiring', () => void this.#renew());
    this.routerRtpCapabilities = new Promise((resolve) => this.on('hello', ({ routerRtpCapabilities }) => resolve(routerRtpCapabilities)));
    const first = this.#socket;
    this.connected = new Promise((resolve, reject) => {
      first.once('connect', () => resolve());
      first.once('connect_error', (err: Error & { data?: ErrorBody }) => {
        if (first.connected) return;
        reject(
          err.data
            ? new OnstageRequestError('connect', err.data.code, err.data.message)
            : new OnstageRequestError('connect', 'CONNECTION_FAILED', err.message),
        );
      });
    });
    this.connected.catch(() => this.close());
  }

  /** The node this channel talks to now. */
  get url(): string {
    return this.#url;
  }

  async request<N extends RequestName>(name: N, body: RequestBody<N>): Promise<ResponseData<N>> {
    let ack: Ack<N>;
    try {
      ack = await this.#socket.timeout(this.#timeoutMs).emitWithAck(name, body);
    } catch {
      throw new OnstageRequestError(name, 'TIMEOUT', `no answer within ${this.#timeoutMs} ms`);
    }
    if (!ack.ok) throw new OnstageRequestError(name, ack.error.code, ack.error.message, ack.error.redirect);
    return ack.data;
  }

  on<N extends ServerEventName>(name: N, listener: (body: ServerEvent<N>) => void): void {
    let set = this.#handlers.get(name);
    if (!set) this.#handlers.set(name, (set = new Set()));
    set.add(listener as Handler);
  }

  off<N extends ServerEventName>(name: N, listener: (body: ServerEvent<N>) => void): void {
    this.#handlers.get(name)?.delete(listener as Handler);
  }

  /** Tells about drops, returns after a drop (on this node or another), and giving up. */
  onConnectionChange(listener: (change: ConnectionChange, reason?: string) => void): void {
    this.#listeners.push(listener);
  }

  /**
   * Goes on on another node: this connection is dropped (listeners see 'lost' if it was up) and
   * the new one is 'back' once connected, as after any drop.
   */
  moveTo(url: string): void {
    if (this.#closed || url === this.#url) return;
    const old = this.#socket;
    const wasUp = old.connected;
    old.removeAllListeners();
    old.offAny();
    old.disconnect();
    if (wasUp) this.#tell('lost');
    this.#url = url;
    this.#unreachableInARow = 0;
    this.#socket = this.#open(url);
  }

  #open(url: string): Socket {
    const socket = io(url, {
      transports: ['websocket'],
      reconnectionDelay: 250,
      reconnectionDelayMax: 2000,
      // A connection of its own, never one cached for an earlier channel to the same node.
      forceNew: true,
      auth: (cb) => {
        const token = this.#firstToken ?? this.#freshToken();
        this.#firstToken = undefined;
        token.then(
          (t) => {
            markJoinStep('token');
            cb({ token: t });
          },
          () => cb({ token: '' }),
        );
      },
    });
    socket.onAny((name: string, body: unknown) => {
      for (const handler of this.#handlers.get(name) ?? []) handler(body);
    });
    socket.on('connect', () => {
      this.#refusedInARow = 0;
      this.#unreachableInARow = 0;
      if (this.#wasConnected) this.#tell('back');
      this.#wasConnected = true;
    });
    socket.on('disconnect', (reason) => {
      if (this.#closed || !this.#wasConnected) return;
      this.#tell('lost');
      // The server dropping us (e.g. at token expiry) is not retried by socket.io itself; a network drop is.
      if (reason === 'io server disconnect') socket.connect();
    });
    socket.on('connect_error', (err: Error & { data?: ErrorBody }) => {
      if (this.#closed || !this.#wasConnected) return;
      if (!err.data) {
        // The node does not answer at all: after a couple of tries, go on on another node if there is one.
        const next = this.fallbacks.find((u) => u !== this.#url);
        if (++this.#unreachableInARow >= UNREACHABLE_BEFORE_FAILOVER && next) {
          this.fallbacks = [...this.fallbacks.filter((u) => u !== next), this.#url];
          this.moveTo(next);
        }
        return;
      }
      // A refusal by the server's auth is not retried by socket.io: retry with a fresh token, a few times.
      this.#refusedInARow++;
      if (this.#refusedInARow > MAX_REFUSED_RECONNECTS || typeof this.#token === 'string') {
        this.#tell('failed', `${err.data.code}: ${err.data.message}`);
        this.close();
        return;
      }
      setTimeout(() => this.#closed || socket !== this.#socket || socket.connect(), 250 * 2 ** this.#refusedInARow);
    });
    return socket;
  }

  #tell(change: ConnectionChange, reason?: string): void {
    for (const l of this.#listeners) l(change, reason);
  }

  /** A fresh token; if the source fails (its backend may be the node that just died), the last one it gave. */
  async #freshToken(): Promise<string> {
    if (typeof this.#token === 'string') return this.#token;
    try {
      this.#lastToken = await this.#token();
    } catch (err) {
      if (this.#lastToken === undefined) throw err;
    }
    return this.#lastToken;
  }

  /** Renews the token over the live connection; if that fails the server closes it at expiry and we reconnect. */
  async #renew(): Promise<void> {
    if (typeof this.#token === 'string') return;
    try {
      await this.request('renewToken', { token: await this.#freshToken() });
    } catch {
      // Nothing to do here: the reconnect after expiry asks for a token again.
    }
  }

  close(): void {
    this.#closed = true;
    this.#socket.disconnect();
  }
}
