export { OnstageClient } from './onstage-client.ts';
export type { OnstageClientOptions, OnstageEvents, TrackStats, WatchMode, WatchOptions } from './client-events.ts';
export { OnstageRequestError, type TokenSource } from './signalling-channel.ts';
export { fetchDevToken } from './dev-token.ts';
export type {
  ChatMessage,
  ErrorCode,
  ParticipantInfo,
  Quality,
  Recording,
  RoomId,
  ShowEndReason,
  StageState,
} from '@onstage/protocol';
