import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { Recording } from '@onstage/protocol';
import type { FfmpegBinaries } from './ffmpeg-binary.ts';
import { ffmpegArgs, outputFd } from './ffmpeg-args.ts';
import { FfmpegProcess, type FfmpegExit } from './ffmpeg-process.ts';
import { describeFragment, describeInit, Fmp4Splitter, type Fmp4Fragment, type Fmp4Init } from './hls/fmp4.ts';
import { LiveLadder } from './hls/live-ladder.ts';
import { FPS, renditionsFor, type Rendition, type StageMember } from './layout.ts';
import { freePortPair, udpPortBound } from './ports.ts';
import { RecordingPartWriter } from './recording-part-writer.ts';
import type { RecordingStore } from './recording-store.ts';
import { buildSdp, type RtpCodec, type RtpInput } from './sdp.ts';

/** FFmpeg's niceness: above the server's (0), so it gets the CPU after live work. */
const HLS_NICENESS = 5;

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
  /** FFmpeg's working directory; the recording goes to recordings/<id>/ (live HLS is served from memory). */
  dataDir: string;
  binaries: FfmpegBinaries;
  store: RecordingStore;
  feed: RtpFeed;
  logger: RecorderLogger;
  segmentSeconds: number;
  /** LL-HLS part duration (FFmpeg's longest fragment), seconds. */
  partSeconds: number;
  listSize: number;
};

type RecorderEvents = {
  /** Every rendition has media: players may start. */
  ready: [];
  failure: [reason: RecorderFailure, message: string];
  finished: [recording: Recording];
};

/** What one rendition of a run has written so far. */
type RunOutput = { init?: Fmp4Init; waiting: Fmp4Fragment[] };

type Run = {
  key: string;
  proc: FfmpegProcess;
  session: FeedSession;
  startedAt: number;
  timers: NodeJS.Timeout[];
  outputs: RunOutput[];
  /** Milliseconds from the run's start to: media flowing to FFmpeg, its first init section (its inputs probed). */
  marks: { feedMs?: number; initMs?: number };
  /** Its top rendition's recording part, once the run is the live one. */
  recording?: RecordingPartWriter;
};

// A co-host's audio and video arrive apart; one layout change for both saves an FFmpeg run.
const LAYOUT_SETTLE_MS = 700;
/** How long a layout change waits for a track that is still connecting (a co-host's camera after their mic). */
const CONNECTING_WAIT_MS = 2500;
// Often at first: a new run's output waits for a keyframe of every video (the encoder honours one request per 300 ms).
const KEYFRAME_RETRY_MS = [300, 650, 1000, 1500, 2000, 3000, 5000, 8000, 12_000];
const RETRY_BASE_MS = 500;
const RETRY_MAX_MS = 10_000;
/** A run that lasted this long resets the crash backoff. */
const HEALTHY_RUN_MS = 10_000;

const DISK_ERRORS = new Set(['ENOSPC', 'EROFS', 'EACCES', 'EPERM', 'EDQUOT']);

/** What FFmpeg's inputs and layout depend on: members without media take no cell. */
const layoutKey = (members: StageMember[]) =>
  members.filter((m) => m.video || m.audio).map((m) => `${m.participantId}:${m.video ?? '-'}:${m.audio ?? '-'}`).join('|');

/**
 * One show's LL-HLS ladder and recording. It runs FFmpeg on the composite of the stage and
 * packages its fragments (hls/live-ladder.ts). When the stage's media changes it makes the new
 * layout before it breaks the old: a second FFmpeg run starts on the new stage while the first
 * goes on, and the ladder switches to it (one discontinuity, no lost time) once it has media in
 * every rendition. If FFmpeg dies, a new run starts after a backoff. On stop it ends the playlists
 * and finishes the recording (one part per run that went live).
 *
 *   starting ──▶ running ──(FFmpeg died)──▶ restarting ──▶ running
 *   running ──(stage media changed: next run made, then switched to)──▶ running
 *   any ── stop() ──▶ stopping ──▶ stopped
 */
export class ShowRecorder extends EventEmitter<RecorderEvents> {
  readonly recording: Recording;
  readonly #o: ShowRecorderOptions;
  #state: RecorderState = 'starting';
  #members: StageMember[] = [];
  /** The run the ladder and the recording are made from. */
  #run: Run | undefined;
  /** A run on a new stage layout, taking over from #run once it has media. */
  #next: Run | undefined;
  #liveRuns = 0;
  #restarts = 0;
  #failStreak = 0;
  #lastError: { reason: RecorderFailure; message: string; at: string } | undefined;
  #queue: Promise<void> = Promise.resolve();
  #settle: NodeJS.Timeout | undefined;
  #retry: NodeJS.Timeout | undefined;
  /** The live run is being drained before the next one takes over. */
  #switching = false;
  /** Fixed by the first run (the host's camera height caps it), so every run has one size. */
  #ladder: LiveLadder | undefined;
  #renditions: Rendition[] | undefined;

  private constructor(o: ShowRecorderOptions, recording: Recording) {
    super();
    this.#o = o;
    this.recording = recording;
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
    return this.#ladder?.ready ?? false;
  }

  /** The live HLS, once players may start. */
  get hls(): LiveLadder | undefined {
    return this.ready ? this.#ladder : undefined;
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
    const next = this.#next;
    this.#next = undefined;
    await Promise.all([next && this.#retire(next), this.#run && this.#retire(this.#run)]);
    this.#run = undefined;
    this.#ladder?.end();
    const finished = await this.#o.store.finish(this.recording.id, new Date()).catch((err: unknown): Recording => {
      this.#o.logger.error({ err }, 'cannot finish the recording; its parts are kept');
      return { ...this.recording, status: 'failed', endedAt: new Date().toISOString() };
    });
    this.#state = 'stopped';
    this.#o.logger.info({ recording: finished.id, status: finished.status, durationS: finished.durationS, runs: this.#liveRuns }, 'recording finished');
    this.emit('finished', finished);
    return finished;
  }

  #enqueue(task: () => Promise<void>): void {
    this.#queue = this.#queue.then(task).catch((err: unknown) => this.#o.logger.error({ err }, 'recorder task failed'));
  }

  async #apply(): Promise<void> {
    if (this.#state === 'stopping' || this.#state === 'stopped') return;
    const key = layoutKey(this.#members);
    if ((this.#next ?? this.#run)?.key === key) return;
    if (this.#next) {
      const stale = this.#next;
      this.#next = undefined;
      void this.#retire(stale);
    }
    // Nobody on stage sends anything (say the host is reconnecting): the current run goes on
    // (FFmpeg ends by itself when its media stops) and the next starts when media comes back.
    if (key === '') return;
    if (this.#run) this.#o.logger.info({ members: this.#members.length }, 'stage media changed; making the new layout');
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
      this.#ladder = new LiveLadder(this.#renditions, { segmentSeconds: this.#o.segmentSeconds, partTargetS: partTarget(this.#o.partSeconds), listSize: this.#o.listSize });
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
    const args = ffmpegArgs({ videos: videos.length, audios: audios.length }, this.renditions, {
      segmentSeconds: this.#o.segmentSeconds,
      partSeconds: this.#o.partSeconds,
    });
    const proc = new FfmpegProcess(this.#o.binaries.ffmpeg, args, {
      cwd: this.#o.dataDir,
      stdin: buildSdp(inputs),
      outputs: this.renditions.length,
      // Encoding for HLS yields the CPU to what is live (media forwarding, signalling, ingest): under
      // load HLS falls a little behind rather than WebRTC viewers waiting.
      nice: HLS_NICENESS,
      // Timestamp chatter at debug; the last lines are in the failure report if FFmpeg dies.
      onStderr: (line) => this.#o.logger.debug({ ffmpeg: line, pid: proc.pid }, 'ffmpeg says'),
    });
    const run: Run = { key, proc, session, startedAt: Date.now(), timers: [], outputs: this.renditions.map(() => ({ waiting: [] })), marks: {} };
    this.renditions.forEach((_, i) => {
      const splitter = new Fmp4Splitter(
        (init) => this.#onInit(run, i, init),
        (fragment) => this.#onFragment(run, i, fragment),
      );
      proc.output(outputFd(i)).on('data', (chunk: Buffer) => {
        try {
          splitter.push(chunk);
        } catch (err) {
          this.#o.logger.error({ err, rendition: i }, 'unreadable FFmpeg output; restarting it');
          void proc.stop();
        }
      });
    });
    if (this.#run) this.#next = run;
    else this.#run = run;
    void proc.exited.then((exit) => this.#onExit(run, exit));
    this.#o.logger.info({ pid: proc.pid, videos: videos.length, audios: audios.length, next: run === this.#next }, 'ffmpeg started');
    // RTP must not flow before FFmpeg listens, or the first keyframe is lost.
    await waitFor(async () => (await Promise.all(targets.map((t) => udpPortBound(t.port)))).every(Boolean), 5000);
    if (this.#run !== run && this.#next !== run) return;
    try {
      await session.start();
      run.marks.feedMs = Date.now() - run.startedAt;
    } catch (err) {
      this.#o.logger.warn({ err }, 'cannot start the feed');
    }
    // FFmpeg may drop the very first frames while it probes the streams, and a request can go
    // unanswered (a sender just resumed): ask again while the run is young.
    for (const ms of KEYFRAME_RETRY_MS) run.timers.push(setTimeout(() => void session.requestKeyFrames().catch(() => {}), ms));
    if (this.#state !== 'stopping') this.#state = 'running';
  }

  #onInit(run: Run, rendition: number, bytes: Buffer): void {
    run.marks.initMs ??= Date.now() - run.startedAt;
    try {
      run.outputs[rendition]!.init = describeInit(bytes);
    } catch (err) {
      this.#o.logger.error({ err, rendition }, 'FFmpeg wrote an init section without video');
      return;
    }
    if (run === this.#run) this.#begin(run, rendition);
  }

  #onFragment(run: Run, rendition: number, bytes: Buffer): void {
    const output = run.outputs[rendition]!;
    if (!output.init) return;
    const fragment = describeFragment(bytes, output.init);
    if (!fragment) {
      // Audio that outlived the video at a run's end: the recording keeps it; it makes no LL-HLS part.
      if (run === this.#run && rendition === 0) run.recording?.write(bytes);
      return;
    }
    if (run === this.#run) return this.#deliver(run, rendition, fragment);
    if (run !== this.#next) return;
    output.waiting.push(fragment);
    if (!this.#switching && run.outputs.every((o) => o.waiting.length > 0)) void this.#switchTo(run);
  }

  /**
   * The next run has media in every rendition: the ladder and the recording go on from it. The
   * live run is drained first (stopped, and what it still had in its filters and encoders is
   * delivered), since under load it can lag seconds behind; the new run's fragments wait meanwhile.
   * The two overlap by a little (a player sees up to a segment twice) rather than leave a gap.
   */
  async #switchTo(next: Run): Promise<void> {
    this.#switching = true;
    const previous = this.#run;
    if (previous) await this.#retire(previous);
    this.#switching = false;
    if (this.#run === previous) this.#run = undefined;
    if (this.#next !== next) {
      // Replaced or stopped while the live run drained: a newer run (if any) takes over when it has media.
      if (!this.#run && this.#state === 'running') this.#state = 'restarting';
      return;
    }
    this.#run = next;
    this.#next = undefined;
    next.outputs.forEach((output, i) => {
      this.#begin(next, i);
      // From its newest keyframe on: what it made before that is older than the live run's last
      // output (one rendition can be ready seconds before another), and would replay the past.
      const waiting = output.waiting.splice(0);
      for (const fragment of waiting.slice(Math.max(0, waiting.findLastIndex((f) => f.independent)))) this.#deliver(next, i, fragment);
    });
    this.#o.logger.info({ pid: next.proc.pid, afterMs: Date.now() - next.startedAt, ...next.marks }, 'new layout live');
  }

  /** Rendition `i` of the ladder (and, for the top one, a new recording part) starts on this run's output. */
  #begin(run: Run, rendition: number): void {
    const init = run.outputs[rendition]?.init;
    if (!init || !this.#ladder) return;
    this.#ladder.renditions[rendition]!.begin(init.bytes);
    if (rendition !== 0) return;
    const part = ++this.#liveRuns;
    run.recording = new RecordingPartWriter(join(this.#o.dataDir, this.#o.store.partPath(this.recording.id, part)), (err) =>
      this.#report(DISK_ERRORS.has(err.code ?? '') ? 'disk_full' : 'ffmpeg_exited', `recording part ${part}: ${err.message}`),
    );
    run.recording.write(init.bytes);
    void this.#o.store.setRuns(this.recording.id, part).catch((err: unknown) => this.#o.logger.warn({ err }, 'cannot update the recording'));
  }

  #deliver(run: Run, rendition: number, fragment: Fmp4Fragment): void {
    const wasReady = this.ready;
    this.#ladder?.renditions[rendition]?.append(fragment);
    if (rendition === 0) run.recording?.write(fragment.bytes);
    if (!wasReady && this.ready) this.emit('ready');
  }

  /** Stops a run that is no longer wanted (replaced, or the show ends) and closes what it owns. */
  async #retire(run: Run): Promise<void> {
    const started = Date.now();
    const exit = await run.proc.stop();
    await this.#release(run);
    this.#o.logger.info({ pid: run.proc.pid, code: exit.code, signal: exit.signal, stopMs: Date.now() - started }, 'ffmpeg stopped');
  }

  /** Closes what a run owns once its FFmpeg is gone: timers, the feed's consumers, its recording part. */
  async #release(run: Run): Promise<void> {
    for (const t of run.timers) clearTimeout(t);
    run.session.close();
    await run.recording?.close();
  }

  #onExit(run: Run, exit: FfmpegExit): void {
    if (run.proc.stopping) return;
    if (this.#run === run) this.#run = undefined;
    if (this.#next === run) this.#next = undefined;
    void this.#release(run);
    const message = `ffmpeg exited (code ${exit.code}, signal ${exit.signal}): ${exit.stderrTail.slice(-3).join(' / ')}`;
    if (Date.now() - run.startedAt > HEALTHY_RUN_MS) this.#failStreak = 0;
    this.#fail('ffmpeg_exited', message);
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
    if (!this.#run) this.#state = 'restarting';
    this.#restarts++;
    const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** this.#failStreak++);
    clearTimeout(this.#retry);
    this.#retry = setTimeout(() => this.#enqueue(() => this.#apply()), delay);
  }
}

/** PART-TARGET: FFmpeg's fragments may run a frame past their limit. */
const partTarget = (partSeconds: number) => Math.round((partSeconds + 1 / FPS) * 1000) / 1000;

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
