import { z } from 'zod';
import { ErrorBody } from './errors.ts';
import { ProducerInfo } from './requests.ts';

export const ChatMessage = z.object({
  messageId: z.string(),
  participantId: z.string(),
  displayName: z.string(),
  text: z.string(),
  /** Server time, ms since the epoch. */
  sentAt: z.number(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

export const ShowEndReason = z.enum(['host_left', 'media_failure', 'server_shutdown']);
export type ShowEndReason = z.infer<typeof ShowEndReason>;

/** Every server → client event and its body. */
export const serverEvents = {
  /** The host joined: the show is live (media follows as producerAdded). */
  showStarted: z.object({ hostId: z.string() }),
  /** The host left or the room failed: every consumer of the show is closed. */
  showEnded: z.object({ reason: ShowEndReason }),
  producerAdded: ProducerInfo,
  producerClosed: z.object({ producerId: z.string() }),
  /** One of this client's consumers was closed by the server (its producer or transport went away). */
  consumerClosed: z.object({ consumerId: z.string() }),
  /** A request sent without an acknowledgement callback failed. */
  requestError: z.object({ request: z.string(), error: ErrorBody }),
} as const;

export type ServerEventName = keyof typeof serverEvents;
export type ServerEvent<N extends ServerEventName> = z.infer<(typeof serverEvents)[N]>;
