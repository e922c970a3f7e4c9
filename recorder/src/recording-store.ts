import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Recording, RecordingId } from '@onstage/protocol';
import type { FfmpegBinaries } from './ffmpeg-binary.ts';

const run = promisify(execFile);

const RECORDINGS_DIR = 'recordings';
const META = 'recording.json';
const PARTS = 'parts';
export const MEDIA_FILE = 'show.mp4';

/** `<room>-20261125T120000Z-1a2b`. */
export function newRecordingId(room: string, now = new Date()): RecordingId {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${room}-${stamp}-${randomBytes(2).toString('hex')}`;
}

/**
 * The recordings on disk under `<dataDir>/recordings/<id>/`: `recording.json` (the metadata),
 * `parts/part-NNNN.mp4` while recording (one fragmented MP4 per FFmpeg run, each playable up to
 * where it stopped), and `show.mp4` once finished.
 */
export class RecordingStore {
  readonly #dataDir: string;
  readonly #binaries: FfmpegBinaries;
  readonly #urlOf: (id: string) => string;

  constructor(dataDir: string, binaries: FfmpegBinaries, urlOf: (id: string) => string) {
    this.#dataDir = dataDir;
    this.#binaries = binaries;
    this.#urlOf = urlOf;
  }

  /** Part `run` of a recording, relative to the data directory (FFmpeg's working directory). */
  partPath(id: RecordingId, run: number): string {
    return join(RECORDINGS_DIR, id, PARTS, `part-${String(run).padStart(4, '0')}.mp4`);
  }

  async create(room: string, startedAt: Date): Promise<Recording> {
    const id = newRecordingId(room, startedAt);
    await mkdir(join(this.#dir(id), PARTS), { recursive: true });
    const meta: Recording = { id, room, status: 'recording', startedAt: startedAt.toISOString(), runs: 0 };
    await this.#save(meta);
    return meta;
  }

  async setRuns(id: RecordingId, runs: number): Promise<void> {
    const meta = await this.get(id);
    if (meta) await this.#save({ ...meta, runs });
  }

  /** Newest first; `room` filters. Unreadable entries are skipped. */
  async list(room?: string): Promise<Recording[]> {
    let ids: string[];
    try {
      ids = await readdir(join(this.#dataDir, RECORDINGS_DIR));
    } catch {
      return [];
    }
    const all = await Promise.all(ids.filter((id) => RecordingId.safeParse(id).success).map((id) => this.get(id)));
    return all
      .filter((r): r is Recording => r !== undefined && (room === undefined || r.room === room))
      .sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  }

  async get(id: string): Promise<Recording | undefined> {
    if (!RecordingId.safeParse(id).success) return undefined;
    try {
      const parsed = Recording.safeParse(JSON.parse(await readFile(join(this.#dir(id), META), 'utf8')));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  /** Absolute path of a finished recording's MP4. */
  mediaPath(id: RecordingId): string {
    return join(this.#dir(id), MEDIA_FILE);
  }

  /** The media is safely in object storage under `key`: recorded so, and the local copy goes. */
  async movedToObjectStorage(id: RecordingId, key: string): Promise<Recording | undefined> {
    const meta = await this.get(id);
    if (!meta) return undefined;
    const moved = { ...meta, objectKey: key };
    await this.#save(moved);
    await rm(this.mediaPath(id), { force: true });
    return moved;
  }

  async delete(id: RecordingId): Promise<void> {
    await rm(this.#dir(id), { recursive: true, force: true });
  }

  /**
   * Joins the parts into one seekable MP4 (stream copy, moov at the front), records its duration
   * and size, and removes the parts. Parts with no playable media (FFmpeg died before its first
   * fragment) are skipped. If joining fails the parts are kept and the recording is `failed`.
   */
  async finish(id: RecordingId, endedAt: Date): Promise<Recording> {
    const meta = await this.get(id);
    if (!meta) throw new Error(`no recording ${id}`);
    const partsDir = join(this.#dir(id), PARTS);
    const names = (await readdir(partsDir).catch(() => [])).filter((n) => n.endsWith('.mp4')).sort();
    // Each part is remuxed alone first: a part cut off by a crash ends in a torn packet, which
    // a plain remux drops but the concat demuxer treats as fatal.
    const playable: string[] = [];
    for (const name of names.filter((n) => n.startsWith('part-'))) {
      const whole = join(partsDir, `whole-${name}`);
      const ok = await run(this.#binaries.ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-i', join(partsDir, name), '-c', 'copy', whole])
        .then(() => true, () => false);
      if (ok && (await this.#duration(whole)) > 0) playable.push(whole);
    }
    const done = { ...meta, endedAt: endedAt.toISOString() };
    if (playable.length === 0) {
      await this.#save({ ...done, status: 'failed' });
      return { ...done, status: 'failed' };
    }
    const list = join(partsDir, 'concat.txt');
    await writeFile(list, playable.map((p) => `file '${p.replace(/'/g, "'\\''")}'\n`).join(''));
    const media = this.mediaPath(id);
    try {
      await run(this.#binaries.ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'concat', '-safe', '0', '-i', list,
        '-c', 'copy', '-movflags', '+faststart', media]);
    } catch {
      await this.#save({ ...done, status: 'failed' });
      return { ...done, status: 'failed' };
    }
    const finished: Recording = {
      ...done,
      status: 'ready',
      durationS: await this.#duration(media),
      sizeBytes: (await stat(media)).size,
      url: this.#urlOf(id),
    };
    await this.#save(finished);
    await rm(partsDir, { recursive: true, force: true });
    return finished;
  }

  /** Finishes recordings left `recording` by a process that died, so nothing recorded is lost. */
  async recoverUnfinished(): Promise<Recording[]> {
    const out: Recording[] = [];
    for (const r of await this.list()) if (r.status === 'recording') out.push(await this.finish(r.id, new Date()));
    return out;
  }

  async #duration(file: string): Promise<number> {
    try {
      const { stdout } = await run(this.#binaries.ffprobe, ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]);
      const d = Number.parseFloat(stdout.trim());
      return Number.isFinite(d) ? d : 0;
    } catch {
      return 0;
    }
  }

  #dir(id: string): string {
    return join(this.#dataDir, RECORDINGS_DIR, id);
  }

  async #save(meta: Recording): Promise<void> {
    await writeAtomically(join(this.#dir(meta.id), META), `${JSON.stringify(meta, null, 2)}\n`);
  }
}

/** Writes a file so readers see the old or the new content, never half of it. */
async function writeAtomically(path: string, content: string): Promise<void> {
  await writeFile(`${path}.tmp`, content);
  await rename(`${path}.tmp`, path);
}
