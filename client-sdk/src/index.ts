export { OnstageClient, type OnstageClientOptions, type OnstageEvents, type TrackStats } from './onstage-client.ts';
export { OnstageRequestError } from './signalling-channel.ts';
export type { ErrorCode, RoomId, ShowEndReason } from '@onstage/protocol';
