export { resolveFfmpeg, type FfmpegBinaries } from './ffmpeg-binary.ts';
export { FfmpegProcess, type FfmpegExit } from './ffmpeg-process.ts';
export type { Rendition, StageMember } from './layout.ts';
export { RecordingStore, MEDIA_FILE } from './recording-store.ts';
export type { RtpCodec } from './sdp.ts';
export {
  ShowRecorder,
  type FeedSession,
  type FeedTarget,
  type RecorderFailure,
  type RecorderLogger,
  type RecorderState,
  type RtpFeed,
} from './show-recorder.ts';
export { LiveLadder, type HlsAnswer } from './hls/live-ladder.ts';
