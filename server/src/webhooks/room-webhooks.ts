import type { Room } from '../rooms/room.ts';
import type { NewWebhookEvent } from './webhook-sender.ts';

/** Tells the operator's webhooks what happens in a room: a show starting and ending, people, the stage, tracks. */
export function sendRoomWebhooks(room: Room, send: (event: NewWebhookEvent) => void): void {
  const of = { room: room.id };
  room.on('live', () => send({ event: 'room_started', ...of }));
  room.on('offair', () => send({ event: 'room_finished', ...of }));
  room.on('participantJoined', (participant) => send({ event: 'participant_joined', ...of, participant }));
  room.on('participantLeft', (participant) => send({ event: 'participant_left', ...of, participant }));
  room.on('stageChanged', (stage) => send({ event: 'stage_changed', ...of, stage }));
  room.on('trackPublished', (track) => send({ event: 'track_published', ...of, track }));
  room.on('trackUnpublished', (track) => send({ event: 'track_unpublished', ...of, track }));
}
