import { io, type Socket } from 'socket.io-client';
import type {
  Ack,
  ErrorCode,
  RequestBody,
  RequestName,
  ResponseData,
  ServerEvent,
  ServerEventName,
} from '@onstage/protocol';

/** A request the server refused (code from the protocol) or that never got an answer. */
export class OnstageRequestError extends Error {
  override name = 'OnstageRequestError';
  readonly code: ErrorCode | 'TIMEOUT';
  readonly request: RequestName;

  constructor(request: RequestName, code: ErrorCode | 'TIMEOUT', message: string) {
    super(`${request}: ${code}: ${message}`);
    this.code = code;
    this.request = request;
  }
}

/** Typed requests and events over one socket.io connection. */
export class SignallingChannel {
  readonly #socket: Socket;
  readonly #timeoutMs: number;

  constructor(url: string, timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
    this.#socket = io(url, { transports: ['websocket'], reconnection: false });
  }

  get connected(): boolean {
    return this.#socket.connected;
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

  onDisconnect(listener: (reason: string) => void): void {
    this.#socket.on('disconnect', listener);
    this.#socket.on('connect_error', (err) => listener(err.message));
  }

  close(): void {
    this.#socket.disconnect();
  }
}
