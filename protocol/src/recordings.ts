import { z } from 'zod';
import { RoomId } from './ids.ts';

/** Recording ids: `<room>-<UTC start, compact ISO>-<4 hex>`, safe in paths and URLs. */
export const RecordingId = z.string().regex(/^[A-Za-z0-9_-]{1,64}-\d{8}T\d{6}Z-[0-9a-f]{4}$/, 'not a recording id');
export type RecordingId = z.infer<typeof RecordingId>;

/**
 * A show's recording (VOD), as GET /api/recordings lists it. `recording` while the show is on;
 * `ready` once finished into one seekable MP4; `failed` when nothing playable could be made.
 */
export const Recording = z.object({
  id: RecordingId,
  room: RoomId,
  status: z.enum(['recording', 'ready', 'failed']),
  /** ISO 8601 times. */
  startedAt: z.string(),
  endedAt: z.string().optional(),
  /** Seconds of media in the file (what a player shows). */
  durationS: z.number().optional(),
  sizeBytes: z.number().optional(),
  /** Recorder runs it was made from; runs - 1 gaps (the mixer or FFmpeg died and was restarted). */
  runs: z.number(),
  /** Where to fetch it, once ready. */
  url: z.string().optional(),
  /** Set once the media is in object storage (S3_BUCKET): `url` then redirects to a signed URL of it. */
  objectKey: z.string().optional(),
});
export type Recording = z.infer<typeof Recording>;

/**
 * GET /api/recordings: newest first. In a cluster every node lists every node's recordings;
 * `unansweredNodes` names the nodes that did not answer (their recordings are missing here).
 */
export const RecordingList = z.object({
  recordings: z.array(Recording),
  unansweredNodes: z.array(z.string()).optional(),
});
export type RecordingList = z.infer<typeof RecordingList>;

/** What GET /api/live/:room says about a room's live outputs. */
export const LiveStatus = z.object({
  room: RoomId,
  live: z.boolean(),
  /** The HLS master playlist, while the show is on and shortly after it ends; null when HLS is off. */
  hlsUrl: z.string().nullable(),
  recorder: z
    .object({
      state: z.enum(['starting', 'running', 'restarting', 'stopping', 'stopped']),
      /** The stage mixer (GStreamer: composite + encodings) and the FFmpeg that packages its output. */
      mixerPid: z.number().optional(),
      ffmpegPid: z.number().optional(),
      restarts: z.number(),
      lastError: z.object({ reason: z.string(), message: z.string(), at: z.string() }).optional(),
    })
    .nullable(),
  /**
   * How the host's media comes in when it is not the studio page: an encoder over RTMP (its video
   * forwarded as sent, or transcoded, and why) or WHIP (always forwarded).
   */
  ingest: z
    .object({ protocol: z.enum(['rtmp', 'whip']), video: z.enum(['forward', 'transcode', 'none']), reason: z.string().optional() })
    .optional(),
});
export type LiveStatus = z.infer<typeof LiveStatus>;
export type IngestStatus = NonNullable<LiveStatus['ingest']>;
