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

  constructor(request: RequestName | 'connect', code: OnstageRequestError['code'], message: string) {
    super(`${request}: ${code}: ${message}`);
    this.code = code;
    this.request = request;
  }
}

/** 'lost': the connection dropped and socket.io is retrying; 'back': it reconnected. */
export type ConnectionChange = 'lost' | 'back';

/**
 * Typed requests and events over one socket.io connection, which reconnects by itself with the
 * same token after a drop.
 */
export class SignallingChannel {
  readonly #socket: Socket;
  readonly #timeoutMs: number;
  readonly connected: Promise<void>;
  #closed = false;

  constructor(url: string, token: TokenSource, timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
    let cached: Promise<string> | undefined;
    const getToken = () => (cached ??= typeof token === 'string' ? Promise.resolve(token) : token());
    this.#socket = io(url, {
      transports: ['websocket'],
      reconnectionDelay: 250,
      reconnectionDelayMax: 2000,
      auth: (cb) => {
        getToken().then(
          (t) => cb({ token: t }),
          () => cb({ token: '' }),
        );
      },
    });
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
    if (!ack.ok) throw new OnstageRequestError(name, ack.error.code, ack.error.message);
    return ack.data;
  }

  on<N extends ServerEventName>(name: N, listener: (body: ServerEvent<N>) => void): void {
    // socket.io's listener typing is untyped here; the protocol module is the contract.
    this.#socket.on(name as string, listener as (body: unknown) => void);
  }

  /** Tells about drops and returns after the first connection. */
  onConnectionChange(listener: (change: ConnectionChange) => void): void {
    let wasConnected = false;
    this.#socket.on('connect', () => {
      if (wasConnected) listener('back');
      wasConnected = true;
    });
    this.#socket.on('disconnect', (reason) => {
      if (this.#closed || !wasConnected) return;
      listener('lost');
      // The server dropping us is not retried by socket.io itself; a network drop is.
      if (reason === 'io server disconnect') this.#socket.connect();
    });
  }

  close(): void {
    this.#closed = true;
    this.#socket.disconnect();
  }
}
