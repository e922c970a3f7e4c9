import { open, type FileHandle } from 'node:fs/promises';

/**
 * Appends one FFmpeg run's top rendition (init section, then fragments as they come) to its
 * recording part: a fragmented MP4 playable up to its last whole fragment, whatever happens next.
 * Writes keep their order; the first error stops the part (reported once) and the live show goes on.
 */
export class RecordingPartWriter {
  readonly #path: string;
  readonly #onError: (err: NodeJS.ErrnoException) => void;
  #chain: Promise<FileHandle | undefined>;
  #failed = false;

  constructor(path: string, onError: (err: NodeJS.ErrnoException) => void) {
    this.#path = path;
    this.#onError = onError;
    this.#chain = open(path, 'a').catch((err: NodeJS.ErrnoException) => this.#fail(err));
  }

  write(bytes: Buffer): void {
    if (this.#failed) return;
    this.#chain = this.#chain.then(async (handle) => {
      if (!handle || this.#failed) return handle;
      try {
        await handle.write(bytes);
        return handle;
      } catch (err) {
        await handle.close().catch(() => {});
        return this.#fail(err as NodeJS.ErrnoException);
      }
    });
  }

  /** Waits for the writes so far, then closes the part. */
  async close(): Promise<void> {
    const handle = await this.#chain;
    this.#failed = true;
    await handle?.close().catch(() => {});
  }

  get path(): string {
    return this.#path;
  }

  #fail(err: NodeJS.ErrnoException): undefined {
    if (!this.#failed) {
      this.#failed = true;
      this.#onError(err);
    }
    return undefined;
  }
}
