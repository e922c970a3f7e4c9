import type { Recording } from '@onstage/protocol';
import { MEDIA_FILE, type RecordingStore } from '@onstage/recorder';
import type { Logger } from '../logger.ts';
import type { ObjectStorage } from './object-storage.ts';

const RETRY_BASE_MS = 2000;
const RETRY_MAX_MS = 5 * 60_000;

/**
 * Moves finished recordings to object storage, one at a time, oldest first: upload (multipart),
 * then record the key and remove the local copy. A failed upload keeps the local file (it is
 * still served from disk) and is tried again with backoff, for as long as the process runs; at
 * start every finished recording not yet moved is queued again.
 */
export class RecordingUploads {
  readonly #storage: ObjectStorage;
  readonly #store: RecordingStore;
  readonly #logger: Logger;
  readonly #onResult: (result: 'uploaded' | 'failed') => void;
  readonly #queue: Recording[] = [];
  #working = false;
  #failures = 0;
  #retry: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(storage: ObjectStorage, store: RecordingStore, logger: Logger, onResult: (result: 'uploaded' | 'failed') => void) {
    this.#storage = storage;
    this.#store = store;
    this.#logger = logger;
    this.#onResult = onResult;
  }

  /** Recordings waiting for their upload. */
  get pending(): number {
    return this.#queue.length;
  }

  enqueue(recording: Recording): void {
    if (recording.status !== 'ready' || recording.objectKey || this.#closed) return;
    if (this.#queue.some((r) => r.id === recording.id)) return;
    this.#queue.push(recording);
    if (!this.#working && !this.#retry) void this.#work();
  }

  /** Queues every finished recording on disk that is not in object storage yet. */
  async resumePending(): Promise<void> {
    for (const r of (await this.#store.list()).reverse()) this.enqueue(r);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#retry);
  }

  async #work(): Promise<void> {
    this.#retry = undefined;
    this.#working = true;
    while (this.#queue.length > 0 && !this.#closed) {
      const recording = this.#queue[0]!;
      const key = this.#storage.keyOf(recording.id, MEDIA_FILE);
      const started = Date.now();
      try {
        await this.#storage.upload(key, this.#store.mediaPath(recording.id), 'video/mp4');
        await this.#store.movedToObjectStorage(recording.id, key);
        this.#queue.shift();
        this.#failures = 0;
        this.#onResult('uploaded');
        this.#logger.info({ recording: recording.id, key, sizeBytes: recording.sizeBytes, ms: Date.now() - started }, 'recording moved to object storage');
      } catch (err) {
        if (!(await this.#store.get(recording.id))) {
          // Deleted meanwhile: nothing left to move.
          this.#queue.shift();
          continue;
        }
        this.#onResult('failed');
        const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** this.#failures++);
        this.#logger.warn({ recording: recording.id, err: (err as Error).message, retryInMs: delay }, 'recording upload failed; the local copy stays');
        this.#retry = setTimeout(() => void this.#work(), delay);
        break;
      }
    }
    this.#working = false;
  }
}
