import type { ChatMessage, MediaKind, ParticipantInfo, ShowEndReason, StageState } from '@onstage/protocol';
import type { TokenSource } from './signalling-channel.ts';

export type OnstageClientOptions = {
  /**
   * The access token for the room, or a function that fetches one: it is called for every
   * connection attempt and before the token expires, so sessions outlive their tokens.
   */
  token: TokenSource;
  /** Server origin; defaults to the page's own origin. */
  url?: string;
  /** How long to wait for any one request (ms). Default 10000. */
  requestTimeoutMs?: number;
};

/** How a viewer receives the show: WebRTC (sub-second) or HLS (a few seconds behind, works anywhere HTTP does). */
export type WatchMode = 'webrtc' | 'hls';

export type WatchOptions = {
  /** 'auto' (default) tries WebRTC and falls back to HLS by itself; the others force one. */
  mode?: 'auto' | WatchMode;
  /** In 'auto', how long WebRTC may take to connect before falling back (ms). Default 5000. */
  fallbackAfterMs?: number;
  /**
   * In HLS mode, play Low-Latency HLS (parts, about two seconds behind) when the server offers it.
   * Default true; false plays whole segments (a few seconds more delay, fewer requests).
   */
  hlsLowLatency?: boolean;
};

export type OnstageEvents = {
  /** (viewer) The way the show is received; 'hls' means: call `attachHls(video)`. */
  mode: [mode: WatchMode, reason: string];
  /** (viewer) The host went live. Tracks follow as `trackadded`. */
  live: [];
  /** (viewer) The show ended: every received track has been removed. */
  ended: [reason: ShowEndReason];
  /** The host's connection dropped; the show ends at `until` (server ms) unless they return. */
  hostaway: [until: number];
  hostback: [];
  /** A track from a stage member arrived; `stream` is that member's MediaStream. */
  trackadded: [track: MediaStreamTrack, participantId: string, stream: MediaStream];
  trackremoved: [track: MediaStreamTrack, participantId: string];
  /** The stage changed: seats, requests, invitations. */
  stage: [stage: StageState];
  /** This client got a seat on stage: call `publish(stream)` to be seen and heard. */
  onstage: [];
  /** This client is no longer on stage (left, removed, or the show ended); its tracks stopped going out. */
  offstage: [];
  /** (host) Who is in the room (the whole list, kept up to date from the server's changes). */
  participants: [participants: ParticipantInfo[]];
  /** How many viewers are connected ("N watching"); at most once a second. */
  audience: [viewers: number];
  chat: [message: ChatMessage];
  chatdeleted: [messageId: string];
  activespeaker: [participantId: string | null];
  /** The connection dropped; the client is trying to resume. */
  reconnecting: [];
  /** Resumed after a drop (same participant, same stage seat when within the grace period). */
  reconnected: [resumed: boolean];
  /** The connection is gone for good (banned, replaced by another tab, or the server refused it). */
  disconnected: [reason: string];
  /** Something failed in the background (e.g. receiving a track); the session goes on. */
  error: [error: Error];
};

/** Receive-side numbers of one track, from WebRTC stats. */
export type TrackStats = {
  participantId: string;
  kind: MediaKind;
  bytesReceived: number;
  packetsReceived: number;
  packetsLost: number;
  framesDecoded?: number;
  frameWidth?: number;
  frameHeight?: number;
};
