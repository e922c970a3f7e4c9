import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { existsSync } from 'node:fs';
import { setPriority } from 'node:os';

export type ProcessExit = { code: number | null; signal: NodeJS.Signals | null; stderrTail: string[] };

const TAIL_LINES = 20;

/**
 * util-linux's setpriv asks the kernel to send the child SIGTERM (FFmpeg then finishes its files)
 * the moment the server dies, even by SIGKILL; it execs the child, so the pid stays the child's.
 */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

/**
 * One media child process (FFmpeg, the stage mixer): started with its input on stdin (a text it
 * reads at once; with `stdin: { stream: true }` a stream the caller writes to `input`; or another
 * process's output, handed over directly), stopped once (SIGINT, then SIGKILL).
 */
export class MediaProcess {
  readonly #proc: ChildProcess;
  readonly #tail: string[] = [];
  readonly exited: Promise<ProcessExit>;
  #stopping = false;

  constructor(
    binary: string,
    args: string[],
    options: {
      cwd: string;
      stdin: string | { stream: true } | { from: Readable };
      /** Pipe stdout (read through `stdout`) instead of discarding it. */
      stdout?: boolean;
      onStderr?: (line: string) => void;
      /** Scheduling niceness (0: as the server). */
      nice?: number;
      /** Extra pipes FFmpeg writes to (`pipe:3`, `pipe:4`, …), read through `output(fd)`. */
      outputs?: number;
    },
  ) {
    const [command, argv] = SETPRIV ? [SETPRIV, ['--pdeathsig', 'TERM', '--', binary, ...args]] : [binary, args];
    const outputs = Array.from({ length: options.outputs ?? 0 }, () => 'pipe' as const);
    const stdin = typeof options.stdin === 'object' && 'from' in options.stdin ? options.stdin.from : 'pipe';
    this.#proc = spawn(command, argv, { cwd: options.cwd, stdio: [stdin, options.stdout ? 'pipe' : 'ignore', 'pipe', ...outputs] });
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
      // 'close', not 'exit': every byte the child wrote to its pipes has been read by then.
      this.#proc.once('close', (code, signal) => resolve({ code, signal, stderrTail: this.#tail }));
    });
    // The child may exit before reading all of stdin; that is reported through `exited`.
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

  /** The child's stdin, for a process started with `stdin: { stream: true }`. */
  get input(): Writable | null {
    return this.#proc.stdin;
  }

  /** The pipe the child writes as fd `fd` (FFmpeg's `pipe:<fd>`; 1 is stdout). */
  output(fd: number): Readable {
    const stream = this.#proc.stdio[fd];
    if (!stream || !('read' in stream)) throw new Error(`the process has no output pipe ${fd}`);
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
   * Asks the child to finish (one SIGINT: FFmpeg flushes its last MP4 fragment, a second one would
   * abort it; the mixer flushes its encoders) and kills it if it has not exited within `graceMs`.
   */
  async stop(graceMs = 5000): Promise<ProcessExit> {
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
