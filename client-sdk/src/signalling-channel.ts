import { io, type Socket } from 'socket.io-client';
import type {
  Ack,
  ErrorBody,
  ErrorCode,
  RequestBody,
  RequestName,
  ResponseData,
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

/**
 * Typed requests and events over one socket.io connection, which reconnects by itself after a
 * drop. A token source that is a function is asked again for every connection attempt (so an
 * expired token, or a server restarted with another secret, is replaced) and before the token
 * expires, when the server says so (`tokenExpiring`), to renew it over the live connection.
 */
export class SignallingChannel {
  readonly #socket: Socket;
  readonly #timeoutMs: number;
  readonly #token: TokenSource;
  readonly connected: Promise<void>;
  #closed = false;
  #refusedInARow = 0;
  #listeners: ((change: ConnectionChange, reason?: string) => void)[] = [];

  constructor(url: string, token: TokenSource, timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
    this.#token = token;
    this.#socket = io(url, {
      transports: ['websocket'],
      reconnectionDelay: 250,
      reconnectionDelayMax: 2000,
      auth: (cb) => {
        this.#freshToken().then(
          (t) => cb({ token: t }),
          () => cb({ token: '' }),
        );
      },
    });
    this.#socket.on('tokenExpiring', () => void this.#renew());
    this.connected = new Promise((resolve, reject) => {
      this.#socket.once('connect', () => resolve());
      this.#socket.once('connect_error', (err: Error & { data?: ErrorBody }) => {
        if (this.#socket.connected) return;
        reject(
          err.data
            ? new OnstageRequestError('connect', err.data.code, err.data.message)
            : new OnstageRequestError('connect', 'CONNECTION_FAILED', err.message),
        );
      });
    });
    this.connected.catch(() => this.close());
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
    // socket.io's listener typing is untyped here; the protocol module is the contract.
    this.#socket.on(name as string, listener as (body: unknown) => void);
  }

  off<N extends ServerEventName>(name: N, listener: (body: ServerEvent<N>) => void): void {
    this.#socket.off(name as string, listener as (body: unknown) => void);
  }

  /** Tells about drops, returns after the first connection, and giving up. */
  onConnectionChange(listener: (change: ConnectionChange, reason?: string) => void): void {
    this.#listeners.push(listener);
    if (this.#listeners.length > 1) return;
    const tell = (change: ConnectionChange, reason?: string) => {
      for (const l of this.#listeners) l(change, reason);
    };
    let wasConnected = false;
    this.#socket.on('connect', () => {
      this.#refusedInARow = 0;
      if (wasConnected) tell('back');
      wasConnected = true;
    });
    this.#socket.on('disconnect', (reason) => {
      if (this.#closed || !wasConnected) return;
      tell('lost');
      // The server dropping us (e.g. at token expiry) is not retried by socket.io itself; a network drop is.
      if (reason === 'io server disconnect') this.#socket.connect();
    });
    // A refusal by the server's auth is not retried by socket.io either: retry with a fresh token, a few times.
    this.#socket.on('connect_error', (err: Error & { data?: ErrorBody }) => {
      if (this.#closed || !wasConnected || !err.data) return;
      this.#refusedInARow++;
      if (this.#refusedInARow > MAX_REFUSED_RECONNECTS || typeof this.#token === 'string') {
        tell('failed', `${err.data.code}: ${err.data.message}`);
        this.close();
        return;
      }
      setTimeout(() => this.#closed || this.#socket.connect(), 250 * 2 ** this.#refusedInARow);
    });
  }

  #freshToken(): Promise<string> {
    return typeof this.#token === 'string' ? Promise.resolve(this.#token) : this.#token();
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
