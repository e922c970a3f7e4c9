import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LiveStatus, Recording, RoomId } from '@onstage/protocol';
import { RecordingStore, resolveFfmpeg, resolveStageMixer, ShowRecorder, type FfmpegBinaries, type LiveLadder, type RecorderFailure, type StageMixerTool } from '@onstage/recorder';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Room } from '../rooms/room.ts';
import { ObjectStorage } from './object-storage.ts';
import { RecordingUploads } from './recording-uploads.ts';

export type RecordingEvents = {
  failure(reason: RecorderFailure | 'data_dir_unwritable' | 'no_ffmpeg' | 'no_mixer'): void;
  started(recording: Recording): void;
  /** A finished recording went to object storage, or an attempt failed (it is retried). */
  uploaded(result: 'uploaded' | 'failed'): void;
  finished(recording: Recording): void;
};

type Show = { recorder: ShowRecorder; ending?: Promise<void>; retain?: NodeJS.Timeout };
type Unavailable = { reason: string; message: string; at: string };

/** URLs relative to the server's origin. */
const hlsUrlOf = (room: string) => `/hls/${room}/master.m3u8`;
const recordingUrlOf = (id: string) => `/api/recordings/${id}/show.mp4`;

/**
 * Records every show: when a room goes live (its host has media), a ShowRecorder makes the HLS
 * ladder and the recording; stage changes re-lay the composite; when the show ends the recording
 * is finished, and its live HLS stays served (ended) for a while, then is deleted. A problem here
 * (no FFmpeg, an unwritable or full disk) is logged, counted and reported by GET /api/live/:room;
 * the live WebRTC show is never affected.
 */
export class RecordingService {
  readonly store: RecordingStore | undefined;
  readonly #config: Config['recorder'];
  readonly #binaries: FfmpegBinaries | undefined;
  readonly #mixer: StageMixerTool | undefined;
  readonly #logger: Logger;
  readonly #events: RecordingEvents;
  readonly #shows = new Map<string, Show>();
  readonly #starting = new Map<string, Promise<void>>();
  readonly #unavailable: Unavailable | undefined;
  readonly #objectStorage: ObjectStorage | undefined;
  readonly #uploads: RecordingUploads | undefined;

  private constructor(
    config: Config['recorder'],
    binaries: FfmpegBinaries | undefined,
    mixer: StageMixerTool | undefined,
    unavailable: Unavailable | undefined,
    logger: Logger,
    events: RecordingEvents,
  ) {
    this.#config = config;
    this.#binaries = binaries;
    this.#mixer = mixer;
    this.#unavailable = unavailable;
    this.#logger = logger;
    this.#events = events;
    this.store = binaries ? new RecordingStore(config.dataDir, binaries, recordingUrlOf) : undefined;
    if (this.store && config.objectStorage) {
      this.#objectStorage = new ObjectStorage(config.objectStorage);
      this.#uploads = new RecordingUploads(this.#objectStorage, this.store, logger.child({ storage: config.objectStorage.bucket }), (r) => events.uploaded(r));
    }
  }

  static async create(config: Config['recorder'], logger: Logger, events: RecordingEvents): Promise<RecordingService> {
    if (!config.enabled) return new RecordingService(config, undefined, undefined, undefined, logger, events);
    let binaries: FfmpegBinaries | undefined;
    let mixer: StageMixerTool | undefined;
    let unavailable: Unavailable | undefined;
    const fail = (reason: 'data_dir_unwritable' | 'no_ffmpeg' | 'no_mixer', message: string) => {
      unavailable = { reason, message, at: new Date().toISOString() };
      logger.error({ reason, message }, 'HLS and recordings are off');
    };
    try {
      binaries = resolveFfmpeg(config.ffmpegPath);
      logger.info({ ffmpeg: binaries.ffmpeg, from: binaries.source, ffprobe: binaries.ffprobe }, 'using FFmpeg');
    } catch (err) {
      fail('no_ffmpeg', (err as Error).message);
    }
    try {
      mixer = resolveStageMixer(config.mixerPython);
      logger.info({ python: mixer.python }, 'using the GStreamer stage mixer');
    } catch (err) {
      fail('no_mixer', (err as Error).message);
      binaries = undefined;
    }
    try {
      await mkdir(config.dataDir, { recursive: true });
      await writeFile(join(config.dataDir, '.writable'), '');
    } catch (err) {
      fail('data_dir_unwritable', `DATA_DIR ${config.dataDir}: ${(err as Error).message}`);
      binaries = undefined;
    }
    const service = new RecordingService(config, binaries, mixer, unavailable, logger, events);
    // Shows cut off by a crash of an earlier process: finish their recordings from the parts.
    void service.store
      ?.recoverUnfinished()
      .then(
        (recovered) => recovered.length > 0 && logger.info({ recordings: recovered.map((r) => r.id) }, 'finished recordings of an earlier run'),
        (err: unknown) => logger.warn({ err }, 'cannot recover earlier recordings'),
      )
      // Finished recordings not in object storage yet (an earlier run stopped before it moved them).
      .then(() => service.#uploads?.resumePending());
    return service;
  }

  get enabled(): boolean {
    return this.store !== undefined;
  }

  /** Why HLS and recordings are off although configured on (no FFmpeg, DATA_DIR not writable). */
  get unavailable(): Unavailable | undefined {
    return this.#unavailable;
  }

  /** Finished recordings waiting to go to object storage. */
  get pendingUploads(): number {
    return this.#uploads?.pending ?? 0;
  }

  /** Where a ready recording's media is: a file here, or a signed URL in object storage. */
  async mediaOf(recording: Recording): Promise<{ file: string } | { redirect: string }> {
    if (recording.objectKey && this.#objectStorage) return { redirect: await this.#objectStorage.signedUrl(recording.objectKey) };
    if (!this.store) throw new Error('recordings are off');
    return { file: this.store.mediaPath(recording.id) };
  }

  /** Deletes a recording here and, if it was moved there, its media in object storage. */
  async delete(recording: Recording): Promise<void> {
    if (recording.objectKey) await this.#objectStorage?.delete(recording.objectKey);
    await this.store?.delete(recording.id);
  }

  /** Each show's recorder state, for metrics. */
  recorderStates(): { room: string; state: string }[] {
    return [...this.#shows].map(([room, show]) => ({ room, state: show.recorder.state }));
  }

  /** The processes of every running recorder (its mixer and its FFmpeg), for metrics. */
  recorderProcesses(): { room: string; process: 'mixer' | 'ffmpeg'; pid: number }[] {
    return [...this.#shows].flatMap(([room, show]) => {
      if (show.ending) return [];
      const { mixerPid, ffmpegPid } = show.recorder.status();
      return [
        ...(mixerPid !== undefined ? [{ room, process: 'mixer' as const, pid: mixerPid }] : []),
        ...(ffmpegPid !== undefined ? [{ room, process: 'ffmpeg' as const, pid: ffmpegPid }] : []),
      ];
    });
  }

  /** Follows a room for its life: records each of its shows. */
  attach(room: Room): void {
    if (!this.enabled) return;
    const sync = () => {
      const members = room.stageMedia();
      const show = this.#shows.get(room.id);
      if (show && !show.ending) show.recorder.setStage(members);
      else if (room.state === 'live' && members.some((m) => m.video || m.audio)) this.#start(room);
    };
    room.on('stageMedia', sync);
    room.on('offair', () => void this.#end(room.id));
  }

  /** The live HLS of a room's current (or just ended) show, once players may start. */
  hlsOf(room: string): LiveLadder | undefined {
    return this.#shows.get(room)?.recorder.hls;
  }

  status(room: RoomId, live: boolean): LiveStatus {
    const show = this.#shows.get(room);
    const hlsUrl = this.enabled && show?.recorder.ready ? hlsUrlOf(room) : null;
    if (!show) {
      const recorder = this.#unavailable ? { state: 'stopped' as const, restarts: 0, lastError: this.#unavailable } : null;
      return { room, live, hlsUrl, recorder };
    }
    const s = show.recorder.status();
    return {
      room,
      live,
      hlsUrl,
      recorder: {
        state: s.state,
        restarts: s.restarts,
        ...(s.mixerPid !== undefined ? { mixerPid: s.mixerPid } : {}),
        ...(s.ffmpegPid !== undefined ? { ffmpegPid: s.ffmpegPid } : {}),
        ...(s.lastError ? { lastError: s.lastError } : {}),
      },
    };
  }

  /** Ends every show (server shutdown): recordings are finished before this resolves. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.#starting.values()]);
    await Promise.all([...this.#shows.keys()].map((room) => this.#end(room)));
    for (const show of this.#shows.values()) clearTimeout(show.retain);
    this.#uploads?.close();
    this.#objectStorage?.close();
  }

  #start(room: Room): void {
    if (this.#starting.has(room.id) || !this.store || !this.#binaries || !this.#mixer) return;
    const logger = this.#logger.child({ room: room.id });
    const previous = this.#shows.get(room.id);
    const starting = ShowRecorder.start(
      {
        room: room.id,
        dataDir: this.#config.dataDir,
        binaries: this.#binaries,
        mixer: this.#mixer,
        store: this.store,
        feed: room.recorderFeed(),
        logger,
        segmentSeconds: this.#config.segmentSeconds,
        partSeconds: this.#config.partSeconds,
        listSize: this.#config.listSize,
      },
      room.stageMedia(),
    ).then(
      (recorder) => {
        if (previous) clearTimeout(previous.retain);
        recorder.on('failure', (reason) => this.#events.failure(reason));
        recorder.on('finished', (r) => {
          this.#events.finished(r);
          this.#uploads?.enqueue(r);
        });
        this.#events.started(recorder.recording);
        this.#shows.set(room.id, { recorder });
        logger.info({ recording: recorder.recording.id }, 'recording the show');
        // The show may have changed (or ended) while the recorder started.
        if (room.state === 'live') recorder.setStage(room.stageMedia());
        else void this.#end(room.id);
      },
      (err: unknown) => {
        logger.error({ err }, 'cannot start recording');
        this.#events.failure('ffmpeg_exited');
      },
    ).finally(() => this.#starting.delete(room.id));
    this.#starting.set(room.id, starting);
  }

  async #end(roomId: string): Promise<void> {
    await this.#starting.get(roomId);
    const show = this.#shows.get(roomId);
    if (!show) return;
    show.ending ??= show.recorder.stop().then(
      () => {
        show.retain = setTimeout(() => {
          if (this.#shows.get(roomId) !== show) return;
          this.#shows.delete(roomId);
        }, this.#config.retainMs).unref();
      },
      (err: unknown) => this.#logger.error({ err, room: roomId }, 'cannot finish the recording'),
    );
    await show.ending;
  }
}
