import { EventEmitter } from 'node:events';
import { access, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Recording } from '@onstage/protocol';
import type { FfmpegBinaries } from './ffmpeg-binary.ts';
import { ffmpegArgs } from './ffmpeg-args.ts';
import { FfmpegProcess, type FfmpegExit } from './ffmpeg-process.ts';
import { renditionsFor, type Rendition, type StageMember } from './layout.ts';
import { endPlaylist, masterPlaylist, pruneEmptySegments, writeAtomically } from './playlists.ts';
import { freePortPair, udpPortBound } from './ports.ts';
import type { RecordingStore } from './recording-store.ts';
import { buildSdp, type RtpCodec, type RtpInput } from './sdp.ts';

/** FFmpeg's niceness: above the server's (0), so it gets the CPU after live work. */
const HLS_NICENESS = 5;

export const LIVE_DIR = 'live';

/** Structurally a pino logger; the recorder does not depend on one. */
export type RecorderLogger = {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
};

/** Where one producer's RTP should go: `port` (RTCP to `port + 1`) on loopback. */
export type FeedTarget = { producerId: string; port: number };

/** Consumers the media layer made for one FFmpeg run; the recorder closes them. */
export type FeedSession = {
  /** The codec each target will receive, in the order of the targets. */
  codecs: RtpCodec[];
  /** Starts sending (the consumers begin paused, so FFmpeg is listening before RTP flows). */
  start(): Promise<void>;
  requestKeyFrames(): Promise<void>;
  close(): void;
};

/** The media layer's side: sends producers' RTP to local ports. */
export type RtpFeed = { open(targets: FeedTarget[]): Promise<FeedSession> };

export type RecorderState = 'starting' | 'running' | 'restarting' | 'stopping' | 'stopped';
export type RecorderFailure = 'disk_full' | 'ffmpeg_exited' | 'feed_failed';

export type ShowRecorderOptions = {
  room: string;
  /** FFmpeg's working directory; live HLS goes to live/<recording id>/, the recording to recordings/<id>/. */
  dataDir: string;
  binaries: FfmpegBinaries;
  store: RecordingStore;
  feed: RtpFeed;
  logger: RecorderLogger;
  segmentSeconds: number;
  listSize: number;
};

type RecorderEvents = {
  /** The master playlist exists: players may start. */
  ready: [];
  failure: [reason: RecorderFailure, message: string];
  finished: [recording: Recording];
};

type Run = {
  key: string;
  number: number;
  proc: FfmpegProcess;
  session: FeedSession;
  startedAt: number;
  timers: NodeJS.Timeout[];
  diskReported: boolean;
};

// A co-host's audio and video arrive apart; one layout change for both saves an FFmpeg restart.
const LAYOUT_SETTLE_MS = 700;
/** How long a layout change waits for a track that is still connecting (a co-host's camera after their mic). */
const CONNECTING_WAIT_MS = 2500;
const KEYFRAME_RETRY_MS = [1000, 3000, 5000, 8000, 12_000];
const RETRY_BASE_MS = 500;
const RETRY_MAX_MS = 10_000;
/** A run that lasted this long resets the crash backoff. */
const HEALTHY_RUN_MS = 10_000;

const DISK_ERRORS = new Set(['ENOSPC', 'EROFS', 'EACCES', 'EPERM', 'EDQUOT']);
const DISK_MESSAGES = /No space left on device|Read-only file system|Permission denied|Disk quota exceeded/i;

/** What FFmpeg's inputs and layout depend on: members without media take no cell. */
const layoutKey = (members: StageMember[]) =>
  members.filter((m) => m.video || m.audio).map((m) => `${m.participantId}:${m.video ?? '-'}:${m.audio ?? '-'}`).join('|');

/**
 * One show's HLS ladder and recording. It runs FFmpeg on the composite of the stage, starts a new
 * FFmpeg run (with a discontinuity in the playlists and a new recording part) whenever the stage's
 * media changes or FFmpeg dies, and on stop ends the playlists and finishes the recording.
 *
 *   starting ──▶ running ──(stage media changed / FFmpeg died)──▶ restarting ──▶ running
 *   any ── stop() ──▶ stopping ──▶ stopped
 */
export class ShowRecorder extends EventEmitter<RecorderEvents> {
  readonly recording: Recording;
  readonly #o: ShowRecorderOptions;
  readonly #liveDir: string;
  #state: RecorderState = 'starting';
  #members: StageMember[] = [];
  #run: Run | undefined;
  #runs = 0;
  #restarts = 0;
  #failStreak = 0;
  #lastError: { reason: RecorderFailure; message: string; at: string } | undefined;
  #queue: Promise<void> = Promise.resolve();
  #settle: NodeJS.Timeout | undefined;
  #retry: NodeJS.Timeout | undefined;
  #readyPoll: NodeJS.Timeout | undefined;
  #ready = false;
  /** Fixed by the first run (the host's camera height caps it), so every part has one size. */
  #renditions: Rendition[] | undefined;

  private constructor(o: ShowRecorderOptions, recording: Recording) {
    super();
    this.#o = o;
    this.recording = recording;
    this.#liveDir = join(LIVE_DIR, recording.id);
  }

  /** Starts recording a show that just went live with these stage members. */
  static async start(o: ShowRecorderOptions, members: StageMember[]): Promise<ShowRecorder> {
    const recording = await o.store.create(o.room, new Date());
    const recorder = new ShowRecorder(o, recording);
    // Audio and video of a new host arrive a few ms apart: let them settle into one layout.
    recorder.setStage(members);
    return recorder;
  }

  get state(): RecorderState {
    return this.#state;
  }

  /** The HLS ladder (empty until the first FFmpeg run). */
  get renditions(): Rendition[] {
    return this.#renditions ?? [];
  }

  get ready(): boolean {
    return this.#ready;
  }

  /** The live HLS directory, relative to the data directory. */
  get liveDir(): string {
    return this.#liveDir;
  }

  status() {
    return {
      state: this.#state,
      ffmpegPid: this.#run?.proc.pid,
      restarts: this.#restarts,
      lastError: this.#lastError,
    };
  }

  /** The stage's media changed; the layout follows once it has been still for a moment. */
  setStage(members: StageMember[]): void {
    this.#members = members;
    clearTimeout(this.#settle);
    const wait = members.some((m) => m.connecting) ? CONNECTING_WAIT_MS : LAYOUT_SETTLE_MS;
    this.#settle = setTimeout(() => this.#enqueue(() => this.#apply()), wait);
  }

  /** Ends the show: stops FFmpeg cleanly, ends the playlists and finishes the recording. */
  async stop(): Promise<Recording> {
    clearTimeout(this.#settle);
    clearTimeout(this.#retry);
    this.#state = 'stopping';
    await this.#queue;
    await this.#stopRun();
    clearInterval(this.#readyPoll);
    // A full disk must not stop the show from ending: what was written stays where it is.
    await Promise.all(this.renditions.map((_, i) => endPlaylist(join(this.#o.dataDir, this.#liveDir, `v${i}`, 'index.m3u8')))).catch(
      (err: unknown) => this.#o.logger.error({ err }, 'cannot end the live playlists'),
    );
    const finished = await this.#o.store.finish(this.recording.id, new Date()).catch((err: unknown): Recording => {
      this.#o.logger.error({ err }, 'cannot finish the recording; its parts are kept');
      return { ...this.recording, status: 'failed', endedAt: new Date().toISOString() };
    });
    this.#state = 'stopped';
    this.#o.logger.info({ recording: finished.id, status: finished.status, durationS: finished.durationS, runs: this.#runs }, 'recording finished');
    this.emit('finished', finished);
    return finished;
  }

  /** Deletes the live HLS files (some time after the show ended, once players have seen ENDLIST). */
  async removeLive(): Promise<void> {
    await rm(join(this.#o.dataDir, this.#liveDir), { recursive: true, force: true });
  }

  #enqueue(task: () => Promise<void>): void {
    this.#queue = this.#queue.then(task).catch((err: unknown) => this.#o.logger.error({ err }, 'recorder task failed'));
  }

  async #apply(): Promise<void> {
    if (this.#state === 'stopping' || this.#state === 'stopped') return;
    const key = layoutKey(this.#members);
    if (this.#run?.key === key) return;
    if (this.#run) {
      this.#o.logger.info({ members: this.#members.length }, 'stage media changed; new layout');
      this.#state = 'restarting';
      await this.#stopRun();
    }
    // Nobody on stage sends anything (say the host is reconnecting): wait for media.
    if (key === '') return;
    try {
      await this.#startRun(this.#members, key);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      this.#fail(DISK_ERRORS.has(e.code ?? '') ? 'disk_full' : 'ffmpeg_exited', e.message);
    }
  }

  async #startRun(members: StageMember[], key: string): Promise<void> {
    const videos = members.filter((m) => m.video).map((m) => ({ producerId: m.video!, kind: 'video' as const }));
    const audios = members.filter((m) => m.audio).map((m) => ({ producerId: m.audio!, kind: 'audio' as const }));
    const wanted = [...videos, ...audios];
    if (!this.#renditions) {
      this.#renditions = renditionsFor(members[0]?.videoHeight);
      await Promise.all(this.#renditions.map((_, i) => mkdir(join(this.#o.dataDir, this.#liveDir, `v${i}`), { recursive: true })));
      this.#o.logger.info({ renditions: this.#renditions.map((r) => r.name), sourceHeight: members[0]?.videoHeight }, 'HLS ladder');
    }
    const targets = await Promise.all(wanted.map(async (w) => ({ ...w, port: await freePortPair() })));
    let session: FeedSession;
    try {
      session = await this.#o.feed.open(targets.map(({ producerId, port }) => ({ producerId, port })));
    } catch (err) {
      this.#fail('feed_failed', (err as Error).message);
      return;
    }
    const inputs: RtpInput[] = targets.map((t, i) => ({ kind: t.kind, port: t.port, codec: session.codecs[i]! }));
    const number = ++this.#runs;
    await this.#o.store.setRuns(this.recording.id, number);
    const args = ffmpegArgs({ videos: videos.length, audios: audios.length }, this.renditions, {
      liveDir: this.#liveDir,
      recordingPart: this.#o.store.partPath(this.recording.id, number),
      segmentSeconds: this.#o.segmentSeconds,
      listSize: this.#o.listSize,
    });
    const proc = new FfmpegProcess(this.#o.binaries.ffmpeg, args, {
      cwd: this.#o.dataDir,
      stdin: buildSdp(inputs),
      // Encoding for HLS yields the CPU to what is live (media forwarding, signalling, ingest): under
      // load HLS falls a little behind rather than WebRTC viewers waiting.
      nice: HLS_NICENESS,
      // Timestamp chatter at debug; the last lines are in the failure report if FFmpeg dies.
      onStderr: (line) => {
        this.#o.logger.debug({ ffmpeg: line, run: number }, 'ffmpeg says');
        // The recording output gave up (its tee slave is onfail=ignore) while live HLS goes on.
        if (DISK_MESSAGES.test(line) && !run.diskReported) {
          run.diskReported = true;
          this.#report('disk_full', `run ${number}: ${line}`);
        }
      },
    });
    const run: Run = { key, number, proc, session, startedAt: Date.now(), timers: [], diskReported: false };
    this.#run = run;
    void proc.exited.then((exit) => this.#onExit(run, exit));
    this.#o.logger.info({ run: number, pid: proc.pid, videos: videos.length, audios: audios.length }, 'ffmpeg started');
    // RTP must not flow before FFmpeg listens, or the first keyframe is lost.
    await waitFor(async () => (await Promise.all(targets.map((t) => udpPortBound(t.port)))).every(Boolean), 5000);
    if (this.#run !== run) return;
    try {
      await session.start();
    } catch (err) {
      this.#o.logger.warn({ err }, 'cannot start the feed');
    }
    // FFmpeg may drop the very first frames while it probes the streams, and a request can go
    // unanswered (a sender just resumed): ask again while the run is young.
    for (const ms of KEYFRAME_RETRY_MS) run.timers.push(setTimeout(() => void session.requestKeyFrames().catch(() => {}), ms));
    if (this.#state !== 'stopping') this.#state = 'running';
    this.#watchReady();
  }

  async #stopRun(): Promise<void> {
    const run = this.#run;
    if (!run) return;
    this.#run = undefined;
    for (const t of run.timers) clearTimeout(t);
    const started = Date.now();
    const exit = await run.proc.stop();
    run.session.close();
    await this.#prunePlaylists();
    this.#o.logger.info({ run: run.number, code: exit.code, signal: exit.signal, stopMs: Date.now() - started }, 'ffmpeg stopped');
  }

  #onExit(run: Run, exit: FfmpegExit): void {
    if (run.proc.stopping) return;
    if (this.#run === run) this.#run = undefined;
    for (const t of run.timers) clearTimeout(t);
    run.session.close();
    this.#enqueue(() => this.#prunePlaylists());
    const diskFull = exit.stderrTail.some((l) => DISK_MESSAGES.test(l));
    const message = `ffmpeg exited (code ${exit.code}, signal ${exit.signal}): ${exit.stderrTail.slice(-3).join(' / ')}`;
    if (Date.now() - run.startedAt > HEALTHY_RUN_MS) this.#failStreak = 0;
    this.#fail(diskFull ? 'disk_full' : 'ffmpeg_exited', message);
  }

  #report(reason: RecorderFailure, message: string): void {
    this.#lastError = { reason, message, at: new Date().toISOString() };
    this.#o.logger.error({ reason, message }, 'recorder failure');
    this.emit('failure', reason, message);
  }

  /** Reports a failure and tries again, backing off while failures come quickly. */
  #fail(reason: RecorderFailure, message: string): void {
    this.#report(reason, message);
    if (this.#state === 'stopping' || this.#state === 'stopped') return;
    this.#state = 'restarting';
    this.#restarts++;
    const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** this.#failStreak++);
    clearTimeout(this.#retry);
    this.#retry = setTimeout(() => this.#enqueue(() => this.#apply()), delay);
  }

  async #prunePlaylists(): Promise<void> {
    await Promise.all(this.renditions.map((_, i) => pruneEmptySegments(join(this.#o.dataDir, this.#liveDir, `v${i}`, 'index.m3u8'))));
  }

  /** Writes the master playlist once every rendition's playlist exists. */
  #watchReady(): void {
    if (this.#ready || this.#readyPoll) return;
    const dir = join(this.#o.dataDir, this.#liveDir);
    this.#readyPoll = setInterval(() => {
      void Promise.all(this.renditions.map((_, i) => access(join(dir, `v${i}`, 'index.m3u8')).then(() => true, () => false))).then(
        async (exist) => {
          if (this.#ready || !exist.every(Boolean)) return;
          this.#ready = true;
          clearInterval(this.#readyPoll);
          await writeAtomically(join(dir, 'master.m3u8'), masterPlaylist(this.renditions));
          this.emit('ready');
        },
      );
    }, 200);
  }
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
