import { z } from 'zod';
import { Role } from './ids.ts';
import { MediaKind } from './media.ts';

/** A chat message (弹幕) as everyone in the room sees it. */
export const ChatMessage = z.object({
  messageId: z.string(),
  participantId: z.string(),
  displayName: z.string(),
  text: z.string(),
  /** Server time, ms since the epoch. */
  sentAt: z.number(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

export const ParticipantInfo = z.object({
  participantId: z.string(),
  displayName: z.string(),
  role: Role,
  onStage: z.boolean(),
  /** Dropped and inside the reconnect grace period. */
  away: z.boolean(),
});
export type ParticipantInfo = z.infer<typeof ParticipantInfo>;

const Pending = z.object({ participantId: z.string(), displayName: z.string(), expiresAt: z.number() });

/** Who is on stage (host first), and the open requests and invitations. */
export const StageState = z.object({
  maxSize: z.number(),
  seats: z.array(
    z.object({
      participantId: z.string(),
      displayName: z.string(),
      role: z.enum(['host', 'cohost']),
      muted: z.record(MediaKind, z.boolean()),
    }),
  ),
  requests: z.array(Pending),
  invites: z.array(Pending),
});
export type StageState = z.infer<typeof StageState>;
