import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { existsSync } from 'node:fs';
import { setPriority } from 'node:os';

export type FfmpegExit = { code: number | null; signal: NodeJS.Signals | null; stderrTail: string[] };

const TAIL_LINES = 20;

/**
 * util-linux's setpriv asks the kernel to send FFmpeg SIGTERM (it then finishes its files) the
 * moment the server dies, even by SIGKILL; it execs FFmpeg, so the pid stays FFmpeg's.
 */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

/**
 * One FFmpeg process: started with its input on stdin (a text it reads at once, or, with `stdin:
 * 'stream'`, a stream the caller writes to `input`), stopped once (SIGINT, then SIGKILL).
 */
export class FfmpegProcess {
  readonly #proc: ChildProcess;
  readonly #tail: string[] = [];
  readonly exited: Promise<FfmpegExit>;
  #stopping = false;

  constructor(
    binary: string,
    args: string[],
    options: {
      cwd: string;
      stdin: string | { stream: true };
      onStderr?: (line: string) => void;
      /** Scheduling niceness (0: as the server). */
      nice?: number;
      /** Extra pipes FFmpeg writes to (`pipe:3`, `pipe:4`, …), read through `output(fd)`. */
      outputs?: number;
    },
  ) {
    const [command, argv] = SETPRIV ? [SETPRIV, ['--pdeathsig', 'TERM', '--', binary, ...args]] : [binary, args];
    const outputs = Array.from({ length: options.outputs ?? 0 }, () => 'pipe' as const);
    this.#proc = spawn(command, argv, { cwd: options.cwd, stdio: ['pipe', 'ignore', 'pipe', ...outputs] });
    if (options.nice && this.#proc.pid !== undefined) {
      try {
        setPriority(this.#proc.pid, options.nice);
      } catch {
        // Not allowed here (a container without the right): it runs at the server's priority.
      }
    }
    this.exited = new Promise((resolve) => {
      this.#proc.once('error', (err) => {
        this.#tail.push(err.message);
        resolve({ code: null, signal: null, stderrTail: this.#tail });
      });
      // 'close', not 'exit': every byte FFmpeg wrote to its pipes has been read by then.
      this.#proc.once('close', (code, signal) => resolve({ code, signal, stderrTail: this.#tail }));
    });
    // FFmpeg may exit before reading all of stdin; that is reported through `exited`.
    this.#proc.stdin?.on('error', () => {});
    if (typeof options.stdin === 'string') this.#proc.stdin?.end(options.stdin);
    let partial = '';
    this.#proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        this.#tail.push(line);
        if (this.#tail.length > TAIL_LINES) this.#tail.shift();
        options.onStderr?.(line);
      }
    });
  }

  /** FFmpeg's stdin, for a process started with `stdin: { stream: true }`. */
  get input(): Writable | null {
    return this.#proc.stdin;
  }

  /** The pipe FFmpeg writes as `pipe:<fd>`. */
  output(fd: number): Readable {
    const stream = this.#proc.stdio[fd];
    if (!stream || !('read' in stream)) throw new Error(`FFmpeg has no output pipe ${fd}`);
    return stream;
  }

  get pid(): number | undefined {
    return this.#proc.pid;
  }

  /** True once stop() was called: an exit after that is expected. */
  get stopping(): boolean {
    return this.#stopping;
  }

  /**
   * Asks FFmpeg to finish (one SIGINT: it flushes the last segment and the MP4 fragment; a second
   * one would abort it) and kills it if it has not exited within `graceMs`.
   */
  async stop(graceMs = 5000): Promise<FfmpegExit> {
    if (!this.#stopping) {
      this.#stopping = true;
      if (this.#proc.exitCode === null && this.#proc.signalCode === null) {
        this.#proc.kill('SIGINT');
        const timer = setTimeout(() => this.#proc.kill('SIGKILL'), graceMs);
        void this.exited.then(() => clearTimeout(timer));
      }
    }
    return this.exited;
  }
}
