import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { Recording } from '@onstage/protocol';
import type { FfmpegBinaries } from './ffmpeg-binary.ts';
import { outputFd, packagerArgs } from './ffmpeg-args.ts';
import { MediaProcess, type ProcessExit } from './media-process.ts';
import { describeFragment, describeInit, Fmp4Splitter, type Fmp4Init } from './hls/fmp4.ts';
import { LiveLadder } from './hls/live-ladder.ts';
import { FPS, gridCells, renditionsFor, type Rendition, type StageMember } from './layout.ts';
import { freePortPair, udpPortBound } from './ports.ts';
import { RecordingPartWriter } from './recording-part-writer.ts';
import type { RecordingStore } from './recording-store.ts';
import type { RtpCodec } from './rtp-codec.ts';
import { StageMixer, type MixerCell, type StageMixerTool } from './stage-mixer.ts';

/** The mixer's and FFmpeg's niceness: above the server's (0), so they get the CPU after live work. */
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

/** Consumers the media layer made for the recorder; the recorder closes them. */
export type FeedSession = {
  /** The codec each target will receive, in the order of the targets. */
  codecs: RtpCodec[];
  /** Starts sending (the consumers begin paused, so the mixer is listening before RTP flows). */
  start(): Promise<void>;
  requestKeyFrames(): Promise<void>;
  close(): void;
};

/** The media layer's side: sends producers' RTP to local ports. */
export type RtpFeed = { open(targets: FeedTarget[]): Promise<FeedSession> };

export type RecorderState = 'starting' | 'running' | 'restarting' | 'stopping' | 'stopped';
export type RecorderFailure = 'disk_full' | 'ffmpeg_exited' | 'mixer_exited';

export type ShowRecorderOptions = {
  room: string;
  /** The processes' working directory; the recording goes to recordings/<id>/ (live HLS is served from memory). */
  dataDir: string;
  binaries: FfmpegBinaries;
  mixer: StageMixerTool;
  store: RecordingStore;
  feed: RtpFeed;
  logger: RecorderLogger;
  segmentSeconds: number;
  /** LL-HLS part duration (the longest fragment), seconds. */
  partSeconds: number;
  listSize: number;
};

type RecorderEvents = {
  /** Every rendition has media: players may start. */
  ready: [];
  failure: [reason: RecorderFailure, message: string];
  finished: [recording: Recording];
};

/** One producer's media in the mixer. */
type Source = {
  session: FeedSession;
  /** Its first decoded media reached the mixer. */
  flowing: boolean;
  timers: NodeJS.Timeout[];
};

/** One mixer and the FFmpeg that packages its output; a new run only after a crash. */
type Run = {
  mixer: StageMixer;
  packager: MediaProcess;
  startedAt: number;
  inits: (Fmp4Init | undefined)[];
  sources: Map<string, Source>;
  /** Its top rendition's recording part. */
  recording?: RecordingPartWriter;
  /** Ended (stopped, or one of its processes died): its exits are handled once. */
  over: boolean;
};

// Audio and video of a stage change arrive a few ms apart: one layout for both.
const STAGE_SETTLE_MS = 100;
/** How long a new layout waits for a new video's first frame before it shows an empty cell. */
const FIRST_FRAME_WAIT_MS = 1500;
// A new video needs a keyframe: ask until one is decoded (the encoder honours one request per 300 ms).
const KEYFRAME_RETRY_MS = [0, 300, 650, 1000, 1500, 2000, 3000, 5000, 8000, 12_000];
const RETRY_BASE_MS = 500;
const RETRY_MAX_MS = 10_000;
/** A run that lasted this long resets the crash backoff. */
const HEALTHY_RUN_MS = 10_000;

const DISK_ERRORS = new Set(['ENOSPC', 'EROFS', 'EACCES', 'EPERM', 'EDQUOT']);

/**
 * One show's LL-HLS ladder and recording. A stage mixer (stage-mixer.ts: one GStreamer pipeline
 * for the whole show) composites the stage's cameras and mixes its microphones, and FFmpeg copies
 * its encodings into fragmented MP4, which hls/live-ladder.ts serves as LL-HLS and the recording
 * keeps. A stage change adds or removes the mixer's sources and moves their cells while it runs:
 * no restart, no discontinuity, nothing lost. A new layout waits (briefly) for a new camera's first
 * frame, so the picture never jumps to an empty cell. If a process dies, a new run starts after a
 * backoff (a discontinuity in the ladder, a new recording part). On stop it ends the playlists and
 * finishes the recording.
 *
 *   starting ──▶ running ──(mixer or FFmpeg died)──▶ restarting ──▶ running
 *   any ── stop() ──▶ stopping ──▶ stopped
 */
export class ShowRecorder extends EventEmitter<RecorderEvents> {
  readonly recording: Recording;
  readonly #o: ShowRecorderOptions;
  #state: RecorderState = 'starting';
  #members: StageMember[] = [];
  #run: Run | undefined;
  #runs = 0;
  /** Recording parts begun (one per run that wrote media). */
  #parts = 0;
  #restarts = 0;
  #failStreak = 0;
  #lastError: { reason: RecorderFailure; message: string; at: string } | undefined;
  #queue: Promise<void> = Promise.resolve();
  #settle: NodeJS.Timeout | undefined;
  #retry: NodeJS.Timeout | undefined;
  /** The layout the stage wants, shown once its videos have frames (or the wait is over). */
  #layout: { cells: MixerCell[]; since: number; timer: NodeJS.Timeout | undefined } | undefined;
  /** Fixed by the first run (the host's camera height caps it), so every run has one size. */
  readonly #ladder: LiveLadder;
  readonly #renditions: Rendition[];
  /** Some stage media reached the mixer (before that the ladder would show only black). */
  #picture = false;

  private constructor(o: ShowRecorderOptions, recording: Recording, members: StageMember[]) {
    super();
    this.#o = o;
    this.recording = recording;
    this.#renditions = renditionsFor(members[0]?.videoHeight);
    this.#ladder = new LiveLadder(this.#renditions, { segmentSeconds: o.segmentSeconds, partTargetS: partTarget(o.partSeconds), listSize: o.listSize });
    o.logger.info({ renditions: this.#renditions.map((r) => r.name), sourceHeight: members[0]?.videoHeight }, 'HLS ladder');
  }

  /** Starts recording a show that just went live with these stage members. */
  static async start(o: ShowRecorderOptions, members: StageMember[]): Promise<ShowRecorder> {
    const recording = await o.store.create(o.room, new Date());
    const recorder = new ShowRecorder(o, recording, members);
    recorder.#members = members;
    recorder.#enqueue(() => recorder.#startRun());
    return recorder;
  }

  get state(): RecorderState {
    return this.#state;
  }

  /** The HLS ladder. */
  get renditions(): Rendition[] {
    return this.#renditions;
  }

  get ready(): boolean {
    return this.#picture && this.#ladder.ready;
  }

  /** The live HLS, once players may start. */
  get hls(): LiveLadder | undefined {
    return this.ready ? this.#ladder : undefined;
  }

  status() {
    return {
      state: this.#state,
      mixerPid: this.#run?.mixer.pid,
      ffmpegPid: this.#run?.packager.pid,
      restarts: this.#restarts,
      lastError: this.#lastError,
    };
  }

  /** The stage's media changed: the mixer's sources and layout follow. */
  setStage(members: StageMember[]): void {
    this.#members = members;
    clearTimeout(this.#settle);
    this.#settle = setTimeout(() => this.#enqueue(() => this.#apply()), STAGE_SETTLE_MS);
  }

  /** Ends the show: the mixer and FFmpeg finish cleanly, the playlists end, the recording is finished. */
  async stop(): Promise<Recording> {
    clearTimeout(this.#settle);
    clearTimeout(this.#retry);
    clearTimeout(this.#layout?.timer);
    this.#state = 'stopping';
    await this.#queue;
    const run = this.#run;
    this.#run = undefined;
    if (run) await this.#end(run);
    this.#ladder.end();
    const finished = await this.#o.store.finish(this.recording.id, new Date()).catch((err: unknown): Recording => {
      this.#o.logger.error({ err }, 'cannot finish the recording; its parts are kept');
      return { ...this.recording, status: 'failed', endedAt: new Date().toISOString() };
    });
    this.#state = 'stopped';
    this.#o.logger.info({ recording: finished.id, status: finished.status, durationS: finished.durationS, runs: this.#runs }, 'recording finished');
    this.emit('finished', finished);
    return finished;
  }

  #enqueue(task: () => Promise<void>): void {
    this.#queue = this.#queue.then(task).catch((err: unknown) => this.#o.logger.error({ err }, 'recorder task failed'));
  }

  async #startRun(): Promise<void> {
    if (this.#state === 'stopping' || this.#state === 'stopped' || this.#run) return;
    const cwd = this.#o.dataDir;
    const mixer = new StageMixer(this.#o.mixer, { renditions: this.#renditions, fps: FPS, keyframeFrames: Math.round(this.#o.segmentSeconds * FPS) }, {
      cwd,
      // Encoding for HLS yields the CPU to what is live (media forwarding, signalling, ingest): under
      // load HLS falls a little behind rather than WebRTC viewers waiting.
      nice: HLS_NICENESS,
      onLog: (line) => this.#o.logger.debug({ mixer: line }, 'mixer says'),
    });
    const packager = new MediaProcess(this.#o.binaries.ffmpeg, packagerArgs(this.#renditions, this.#o.partSeconds), {
      cwd,
      stdin: { from: mixer.media },
      outputs: this.#renditions.length,
      nice: HLS_NICENESS,
      onStderr: (line) => this.#o.logger.debug({ ffmpeg: line, pid: packager.pid }, 'ffmpeg says'),
    });
    // FFmpeg holds the mixer's output now; without our copy, the mixer learns at once if FFmpeg dies.
    mixer.media.destroy();
    const run: Run = { mixer, packager, startedAt: Date.now(), inits: this.#renditions.map(() => undefined), sources: new Map(), over: false };
    this.#run = run;
    this.#runs++;
    mixer.on('flowing', (id) => this.#onFlowing(run, id));
    mixer.on('problem', (message, id) => {
      this.#o.logger.warn({ source: id, message }, 'mixer problem');
      const source = id === undefined ? undefined : run.sources.get(id);
      // The mixer dropped it (say its codec cannot be decoded): it stays out until the stage changes it.
      if (source) this.#closeSource(source);
    });
    this.#renditions.forEach((_, i) => {
      const splitter = new Fmp4Splitter(
        (init) => this.#onInit(run, i, init),
        (fragment) => this.#onFragment(run, i, fragment),
      );
      packager.output(outputFd(i)).on('data', (chunk: Buffer) => {
        try {
          splitter.push(chunk);
        } catch (err) {
          this.#o.logger.error({ err, rendition: i }, 'unreadable FFmpeg output; restarting');
          void packager.stop();
        }
      });
    });
    void mixer.exited.then((exit) => this.#onExit(run, 'mixer', exit));
    void packager.exited.then((exit) => this.#onExit(run, 'ffmpeg', exit));
    this.#o.logger.info({ mixerPid: mixer.pid, ffmpegPid: packager.pid, run: this.#runs }, 'mixer started');
    this.#state = 'running';
    await this.#apply();
  }

  /** Brings the mixer's sources to the stage's media, then asks for the stage's layout. */
  async #apply(): Promise<void> {
    const run = this.#run;
    if (!run || run.over) return;
    const members = this.#members;
    const wanted = new Map<string, 'audio' | 'video'>();
    for (const m of members) {
      if (m.video) wanted.set(m.video, 'video');
      if (m.audio) wanted.set(m.audio, 'audio');
    }
    for (const [id, source] of run.sources) {
      if (wanted.has(id)) continue;
      run.sources.delete(id);
      run.mixer.remove(id);
      this.#closeSource(source);
    }
    const added = [...wanted].filter(([id]) => !run.sources.has(id));
    if (added.length > 0 || run.sources.size < wanted.size) this.#o.logger.info({ added: added.length, sources: wanted.size }, 'stage media changed');
    await Promise.all(added.map(([id, kind]) => this.#addSource(run, id, kind)));
    if (run.over || this.#members !== members) return;
    const videos = members.flatMap((m) => (m.video && run.sources.has(m.video) ? [m.video] : []));
    const top = this.#renditions[0]!;
    const cells = gridCells(videos.length, top.width, top.height).map((c, i) => ({ id: videos[i]!, ...c }));
    clearTimeout(this.#layout?.timer);
    this.#layout = { cells, since: Date.now(), timer: setTimeout(() => this.#showLayout(true), FIRST_FRAME_WAIT_MS) };
    this.#showLayout(false);
  }

  async #addSource(run: Run, id: string, kind: 'audio' | 'video'): Promise<void> {
    const port = await freePortPair();
    let session: FeedSession;
    try {
      session = await this.#o.feed.open([{ producerId: id, port }]);
    } catch (err) {
      // Gone while we asked (the stage changed again): the next change brings the mixer up to date.
      this.#o.logger.warn({ err, producer: id }, 'cannot receive a stage source');
      return;
    }
    const source: Source = { session, flowing: false, timers: [] };
    if (run.over) return this.#closeSource(source);
    run.sources.set(id, source);
    run.mixer.add({ id, kind, port, codec: session.codecs[0]! });
    // RTP must not flow before the mixer listens, or the first keyframe is lost.
    await waitFor(() => udpPortBound(port), 5000);
    if (run.sources.get(id) !== source) return;
    try {
      await session.start();
    } catch (err) {
      this.#o.logger.warn({ err, producer: id }, 'cannot start a stage source');
    }
    if (kind === 'video' && !source.flowing) {
      for (const ms of KEYFRAME_RETRY_MS) source.timers.push(setTimeout(() => void session.requestKeyFrames().catch(() => {}), ms));
    }
  }

  #closeSource(source: Source): void {
    for (const t of source.timers) clearTimeout(t);
    source.session.close();
  }

  #onFlowing(run: Run, id: string): void {
    const source = run.sources.get(id);
    if (!source) return;
    source.flowing = true;
    for (const t of source.timers) clearTimeout(t);
    if (!this.#picture) {
      this.#picture = true;
      if (this.ready) this.emit('ready');
    }
    this.#showLayout(false);
  }

  /** Shows the wanted layout once all its videos have frames, or regardless when `now`. */
  #showLayout(now: boolean): void {
    const layout = this.#layout;
    const run = this.#run;
    if (!layout || !run) return;
    if (!now && !layout.cells.every((c) => run.sources.get(c.id)?.flowing)) return;
    clearTimeout(layout.timer);
    this.#layout = undefined;
    run.mixer.layout(layout.cells);
    this.#o.logger.info({ videos: layout.cells.length, waitedMs: Date.now() - layout.since, complete: !now }, 'layout shown');
  }

  #onInit(run: Run, rendition: number, bytes: Buffer): void {
    let init: Fmp4Init;
    try {
      init = describeInit(bytes);
    } catch (err) {
      this.#o.logger.error({ err, rendition }, 'FFmpeg wrote an init section without video');
      return;
    }
    run.inits[rendition] = init;
    this.#ladder.renditions[rendition]!.begin(init.bytes);
    if (rendition !== 0) return;
    const part = ++this.#parts;
    run.recording = new RecordingPartWriter(join(this.#o.dataDir, this.#o.store.partPath(this.recording.id, part)), (err) =>
      this.#report(DISK_ERRORS.has(err.code ?? '') ? 'disk_full' : 'ffmpeg_exited', `recording part ${part}: ${err.message}`),
    );
    run.recording.write(init.bytes);
    void this.#o.store.setRuns(this.recording.id, part).catch((err: unknown) => this.#o.logger.warn({ err }, 'cannot update the recording'));
  }

  #onFragment(run: Run, rendition: number, bytes: Buffer): void {
    const init = run.inits[rendition];
    if (!init) return;
    if (rendition === 0) run.recording?.write(bytes);
    // Audio that outlived the video at a run's end: the recording keeps it; it makes no LL-HLS part.
    const fragment = describeFragment(bytes, init);
    if (!fragment) return;
    const wasReady = this.ready;
    this.#ladder.renditions[rendition]!.append(fragment);
    if (!wasReady && this.ready) this.emit('ready');
  }

  /** Stops a run cleanly (the mixer flushes, FFmpeg packages the rest) and closes what it owns. */
  async #end(run: Run): Promise<void> {
    run.over = true;
    const started = Date.now();
    const mixerExit = await run.mixer.stop();
    // FFmpeg ends when the mixer's output does; it is stopped only if it does not.
    const timer = setTimeout(() => void run.packager.stop(), 5000);
    const exit = await run.packager.exited;
    clearTimeout(timer);
    await this.#release(run);
    this.#o.logger.info({ mixerCode: mixerExit.code, ffmpegCode: exit.code, ffmpegSignal: exit.signal, stopMs: Date.now() - started }, 'mixer and FFmpeg stopped');
  }

  /** Closes what a run owns once its processes are gone: its sources' consumers, its recording part. */
  async #release(run: Run): Promise<void> {
    for (const source of run.sources.values()) this.#closeSource(source);
    run.sources.clear();
    await run.recording?.close();
  }

  #onExit(run: Run, which: 'mixer' | 'ffmpeg', exit: ProcessExit): void {
    if (run.over) return;
    run.over = true;
    if (this.#run === run) this.#run = undefined;
    // Its partner cannot go on alone.
    void (which === 'mixer' ? run.packager.stop() : run.mixer.stop()).then(() => this.#release(run));
    const message = `${which} exited (code ${exit.code}, signal ${exit.signal}): ${exit.stderrTail.slice(-3).join(' / ')}`;
    if (Date.now() - run.startedAt > HEALTHY_RUN_MS) this.#failStreak = 0;
    this.#fail(which === 'mixer' ? 'mixer_exited' : 'ffmpeg_exited', message);
  }

  #report(reason: RecorderFailure, message: string): void {
    this.#lastError = { reason, message, at: new Date().toISOString() };
    this.#o.logger.error({ reason, message }, 'recorder failure');
    this.emit('failure', reason, message);
  }

  /** Reports a failure and starts a new run, backing off while failures come quickly. */
  #fail(reason: RecorderFailure, message: string): void {
    this.#report(reason, message);
    if (this.#state === 'stopping' || this.#state === 'stopped') return;
    this.#state = 'restarting';
    this.#restarts++;
    const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** this.#failStreak++);
    clearTimeout(this.#retry);
    this.#retry = setTimeout(() => this.#enqueue(() => this.#startRun()), delay);
  }
}

/** PART-TARGET: a fragment may run a frame past its limit. */
const partTarget = (partSeconds: number) => Math.round((partSeconds + 1 / FPS) * 1000) / 1000;

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
