import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serverApiOpenApi } from '../../server/src/http/server-api-openapi.ts';

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, { type?: string; properties?: Record<string, { enum?: string[] }>; required?: string[] }> };
};

test('the server API OpenAPI document: made from the protocol schemas, every reference resolves, every route listed', () => {
  const doc = serverApiOpenApi() as Doc;
  assert.equal(doc.openapi, '3.1.0');
  const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)].map((m) => m[1]!);
  assert.ok(refs.length > 10);
  for (const name of refs) assert.ok(doc.components.schemas[name], `${name} is defined`);
  const mute = doc.components.schemas['ApiMute']!;
  assert.equal(mute.type, 'object');
  assert.deepEqual(mute.required?.sort(), ['kind', 'muted']);
  assert.deepEqual(mute.properties?.['kind']?.enum, ['audio', 'video'], 'from the zod enum');
  const events = doc.components.schemas['WebhookEvent']!.properties?.['event']?.enum ?? [];
  assert.ok(events.includes('node_draining') && events.includes('recording_ready'), 'webhook event names from the schema');
  assert.deepEqual(Object.keys(doc.paths).sort(), [
    '/api/server/drain',
    '/api/server/recordings',
    '/api/server/recordings/{id}',
    '/api/server/rooms',
    '/api/server/rooms/{room}',
    '/api/server/rooms/{room}/chat',
    '/api/server/rooms/{room}/participants/{participant}',
    '/api/server/rooms/{room}/participants/{participant}/mute',
    '/api/server/rooms/{room}/participants/{participant}/stage',
  ]);
});
