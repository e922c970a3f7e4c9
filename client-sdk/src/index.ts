export {
  OnstageClient,
  type OnstageClientOptions,
  type OnstageEvents,
  type TrackStats,
  type WatchMode,
  type WatchOptions,
} from './onstage-client.ts';
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
