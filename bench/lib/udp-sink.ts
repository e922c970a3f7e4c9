import { execFileSync, spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';

const SOURCE = new URL('./udp-sink.c', import.meta.url).pathname;
const BINARY = new URL('../.build/udp-sink', import.meta.url).pathname;

/** Builds the C sink if its binary is missing or older than its source. */
function build(): string {
  if (!existsSync(BINARY) || statSync(BINARY).mtimeMs < statSync(SOURCE).mtimeMs) {
    mkdirSync(new URL('../.build/', import.meta.url), { recursive: true });
    execFileSync('cc', ['-O2', '-Wall', '-o', BINARY, SOURCE], { stdio: 'inherit' });
  }
  return BINARY;
}

/**
 * UDP sockets on loopback that only count what arrives (one per synthetic viewer), served by a
 * small C process so that counting costs about a microsecond per packet.
 */
export class UdpSink {
  readonly #proc: ChildProcessByStdio<Writable, Readable, null>;
  readonly #answers: ((line: string) => void)[] = [];

  constructor() {
    this.#proc = spawn(build(), [], { stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: this.#proc.stdout }).on('line', (line) => this.#answers.shift()?.(line));
  }

  get pid(): number {
    return this.#proc.pid!;
  }

  #ask(command: string): Promise<string> {
    return new Promise((resolve) => {
      this.#answers.push(resolve);
      this.#proc.stdin.write(`${command}\n`);
    });
  }

  /** Opens one more socket; resolves with its port. */
  async open(): Promise<number> {
    const answer = await this.#ask('open');
    const port = Number(answer);
    if (!Number.isInteger(port) || port <= 0) throw new Error(`sink could not open a socket: ${answer}`);
    return port;
  }

  /** Datagrams received so far, over all sockets. */
  async count(): Promise<number> {
    return Number(await this.#ask('count'));
  }

  close(): void {
    this.#proc.kill();
  }
}
