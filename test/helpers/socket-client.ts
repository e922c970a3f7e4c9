import { io, type Socket } from 'socket.io-client';
import type { Ack, ErrorCode, RequestName } from '@onstage/protocol';

/** A raw signalling client for tests: sends anything, returns the server's ack as is. */
export class RawClient {
  readonly socket: Socket;

  private constructor(socket: Socket) {
    this.socket = socket;
  }

  static async connect(url: string): Promise<RawClient> {
    const socket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    return new RawClient(socket);
  }

  /** Emits `event` with exactly these arguments plus an ack callback. */
  async send(event: string, ...args: unknown[]): Promise<Ack<RequestName>> {
    return this.socket.timeout(5000).emitWithAck(event, ...args);
  }

  /** Sends a request that must succeed; returns its data. */
  async ok<T = Record<string, unknown>>(event: RequestName, body: unknown): Promise<T> {
    const ack = await this.send(event, body);
    if (!ack.ok) throw new Error(`${event} failed: ${ack.error.code} ${ack.error.message}`);
    return ack.data as T;
  }

  /** Sends a request that must fail; returns its error code. */
  async code(event: string, ...args: unknown[]): Promise<ErrorCode> {
    const ack = await this.send(event, ...args);
    if (ack.ok) throw new Error(`${event} unexpectedly succeeded`);
    return ack.error.code;
  }

  close(): void {
    this.socket.disconnect();
  }
}
