import type { Role, RoomId } from '@onstage/protocol';

/**
 * Fetches a token from a server in development mode (POST /api/dev/token). Production apps get
 * tokens from their own backend instead. Pass the same `identity` again to resume after a reload.
 */
export async function fetchDevToken(
  request: { room: RoomId; role: Role; name?: string; identity?: string },
  url: string = globalThis.location.origin,
): Promise<{ token: string; identity: string; expiresAt: number }> {
  const res = await fetch(`${url}/api/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request),
  });
  if (!res.ok) throw new Error(`cannot get a development token: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as { token: string; identity: string; expiresAt: number };
}
