import { z } from 'zod';
import {
  ApiDrain,
  ApiMute,
  ApiRoomDetail,
  ApiRoomList,
  ApiStageMove,
  ApiSystemChat,
  ChatMessage,
  ErrorBody,
  Recording,
  RecordingList,
  WebhookEvent,
} from '@onstage/protocol';

/** The schemas the document names, made from the protocol's zod schemas (the one source of truth). */
const SCHEMAS = { ApiRoomList, ApiRoomDetail, ApiMute, ApiStageMove, ApiSystemChat, ApiDrain, ChatMessage, Recording, RecordingList, ErrorBody, WebhookEvent };
type SchemaName = keyof typeof SCHEMAS;

const ref = (name: SchemaName) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: SchemaName) => ({ content: { 'application/json': { schema: ref(name) } } });
const errors = {
  '400': { description: 'INVALID_PAYLOAD', ...json('ErrorBody') },
  '401': { description: 'TOKEN_MISSING or TOKEN_INVALID: no or wrong API key and secret', ...json('ErrorBody') },
  '404': { description: 'NOT_FOUND, PARTICIPANT_NOT_FOUND', ...json('ErrorBody') },
};
const op = (summary: string, ok: SchemaName | { description: string }, body?: SchemaName) => ({
  summary,
  ...(body ? { requestBody: { required: body !== 'ApiDrain', ...json(body) } } : {}),
  responses: { '200': typeof ok === 'string' ? { description: 'OK', ...json(ok) } : ok, ...errors },
});
const param = (name: string, description: string) => ({ name, in: 'path', required: true, description, schema: { type: 'string' } });
const room = param('room', 'room id');
const participant = param('participant', 'participant id');
const done = { description: 'Done', content: { 'application/json': { schema: { type: 'object' } } } };

/** The server API as an OpenAPI 3.1 document (GET /api/server/openapi.json). */
export function serverApiOpenApi(): object {
  return {
    openapi: '3.1.0',
    info: { title: 'Onstage server API', version: '1', description: "For the operator's backend. HTTP Basic with API_KEY:API_SECRET on every path." },
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'basic' } },
      schemas: Object.fromEntries(Object.entries(SCHEMAS).map(([name, schema]) => [name, z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' })])),
    },
    security: [{ apiKey: [] }],
    paths: {
      '/api/server/rooms': { get: op("Every node's open rooms", 'ApiRoomList') },
      '/api/server/rooms/{room}': {
        parameters: [room],
        get: op('One room: its stage and participants', 'ApiRoomDetail'),
        delete: op('Ends the show for everyone (showEnded: ended_by_operator)', done),
      },
      '/api/server/rooms/{room}/chat': { parameters: [room], post: op('A system chat message to everyone in the room', 'ChatMessage', 'ApiSystemChat') },
      '/api/server/rooms/{room}/participants/{participant}': { parameters: [room, participant], delete: op('Removes the participant now', done) },
      '/api/server/rooms/{room}/participants/{participant}/mute': { parameters: [room, participant], post: op("Mutes or unmutes the participant's audio or video", done, 'ApiMute') },
      '/api/server/rooms/{room}/participants/{participant}/stage': { parameters: [room, participant], post: op('Invites the participant on stage, or takes them off', done, 'ApiStageMove') },
      '/api/server/recordings': { get: op("This node's recordings (?room= filters)", 'RecordingList') },
      '/api/server/recordings/{id}': { parameters: [param('id', 'recording id')], get: op('One recording', 'Recording'), delete: op('Deletes it (and its object in object storage)', done) },
      '/api/server/drain': { post: { ...op('Drains this node (202)', done, 'ApiDrain'), responses: { '202': done, ...errors } } },
    },
    webhooks: { event: { post: { summary: 'A webhook delivery (header Onstage-Signature)', requestBody: json('WebhookEvent'), responses: { '2XX': { description: 'Received' } } } } },
  };
}
