import type { IncomingMessage } from 'node:http';
import { InvalidInputError } from '../errors.ts';

/** A request's whole body parsed as JSON (INVALID_PAYLOAD if it is not). */
export async function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const body = await readBody(req, maxBytes);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new InvalidInputError('INVALID_PAYLOAD', 'body is not JSON');
  }
}

/** A percent-encoded path segment; a malformed encoding is the client's error. */
export function decodePathPart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new InvalidInputError('INVALID_PAYLOAD', 'malformed percent-encoding in the path');
  }
}

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
