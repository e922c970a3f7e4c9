export { resolveFfmpeg, type FfmpegBinaries } from './ffmpeg-binary.ts';
export { MediaProcess, type ProcessExit } from './media-process.ts';
export type { Rendition, StageMember } from './layout.ts';
export { RecordingStore, MEDIA_FILE } from './recording-store.ts';
export type { RtpCodec } from './rtp-codec.ts';
export { resolveStageMixer, type StageMixerTool } from './stage-mixer.ts';
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
