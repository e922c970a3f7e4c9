import { execFile } from 'node:child_process';

/** Backtraces can be long (a worker has a handful of threads); the log keeps this much. */
const MAX_CHARS = 32_000;

/**
 * Every thread's backtrace of a running process, read with gdb (attach, print, detach), or
 * undefined when gdb is not installed or does not finish within `timeoutMs`. Used on a worker
 * that stopped answering, before it is killed: the stack is the evidence of why it stopped.
 */
export function threadBacktraces(pid: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(
      'gdb',
      ['-p', String(pid), '-batch', '-nx', '-ex', 'set pagination off', '-ex', 'thread apply all bt'],
      { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 },
      (err, stdout) => {
        const traces = stdout.split('\n').filter((line) => /^(Thread |#\d)/.test(line)).join('\n');
        resolve(err && traces === '' ? undefined : traces.slice(0, MAX_CHARS));
      },
    );
  });
}
