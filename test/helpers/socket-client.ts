import { io, type Socket } from 'socket.io-client';
import type { Ack, ErrorCode, RequestName, Role, ServerEvent } from '@onstage/protocol';
import { signToken } from '../../server/src/auth/tokens.ts';
import { TEST_SECRET } from './server.ts';

export type TokenSpec = { room: string; role: Role; sub?: string; name?: string; expiresInS?: number; secret?: string };

/** A token signed like a real backend would (with the test server's secret unless told otherwise). */
export function testToken(spec: TokenSpec): string {
  const now = Math.floor(Date.now() / 1000);
  return signToken(
    {
      room: spec.room,
      role: spec.role,
      sub: spec.sub ?? `user-${Math.random().toString(36).slice(2)}`,
      ...(spec.name ? { name: spec.name } : {}),
      exp: now + (spec.expiresInS ?? 3600),
      iat: now,
    },
    spec.secret ?? TEST_SECRET,
  );
}

/** A raw signalling client for tests: sends anything, returns the server's ack as is. */
export class RawClient {
  readonly socket: Socket;
  /** The `hello` the server sends as the connection opens. */
  readonly hello: Promise<ServerEvent<'hello'>>;

  private constructor(socket: Socket, hello: Promise<ServerEvent<'hello'>>) {
    this.socket = socket;
    this.hello = hello;
  }

  /** Connects with a token for `spec` (or this exact token string); rejects with the server's refusal. */
  static async connect(url: string, spec: TokenSpec | string): Promise<RawClient> {
    const token = typeof spec === 'string' ? spec : testToken(spec);
    const socket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token } });
    const hello = new Promise<ServerEvent<'hello'>>((resolve) => socket.once('hello', resolve));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', (err: Error & { data?: { code: string } }) => {
        socket.close();
        reject(Object.assign(new Error(err.message), { code: err.data?.code }));
      });
    });
    return new RawClient(socket, hello);
  }

  /** Resolves with the next `event` body this client receives. */
  next<T = Record<string, unknown>>(event: string, timeoutMs = 5000): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
      this.socket.once(event, (body: T) => {
        clearTimeout(timer);
        resolve(body);
      });
    });
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
