import type { IncomingMessage } from 'node:http';
import { InvalidInputError } from '../errors.ts';

/** A request's whole body, refused (PAYLOAD_TOO_LARGE) as soon as it passes `maxBytes`. */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new InvalidInputError('PAYLOAD_TOO_LARGE', `body over ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
