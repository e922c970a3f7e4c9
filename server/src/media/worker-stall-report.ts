import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Backtraces can be long (a worker has a handful of threads); the log keeps this much. */
const MAX_BACKTRACE_CHARS = 32_000;
/** How long the worker's CPU time is watched, to tell a spinning worker from a blocked one. */
const CPU_WINDOW_MS = 500;

/** What a stalled worker was doing: the evidence of why it stopped answering. */
export type StallReport = {
  /** The kernel's process state (R running, S sleeping, D disk wait, T stopped, ...). */
  state: string;
  /** Share of one core the worker used over half a second: about 100 means it spins, 0 that it waits. */
  cpuPercent: number;
  /** Where in the kernel it waits (wchan) and its kernel stack, when readable. */
  wchan: string | undefined;
  kernelStack: string | undefined;
  /** Every thread's backtrace, from gdb (attach, print, detach); undefined without gdb. */
  backtraces: string | undefined;
};

/** Reads what a stalled process is doing, within about `timeoutMs`. */
export async function stallReport(pid: number, timeoutMs: number): Promise<StallReport> {
  const before = cpuTicks(pid);
  await new Promise((r) => setTimeout(r, CPU_WINDOW_MS));
  const after = cpuTicks(pid);
  // Linux counts CPU time in clock ticks of 1/100 s.
  const cpuPercent = before !== undefined && after !== undefined ? ((after - before) / 100 / (CPU_WINDOW_MS / 1000)) * 100 : Number.NaN;
  return {
    state: procStat(pid)?.[0] ?? 'gone',
    cpuPercent: Math.round(cpuPercent),
    wchan: readProc(pid, 'wchan'),
    kernelStack: readProc(pid, 'stack'),
    backtraces: await threadBacktraces(pid, timeoutMs - CPU_WINDOW_MS),
  };
}

function threadBacktraces(pid: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(
      'gdb',
      ['-p', String(pid), '-batch', '-nx', '-ex', 'set pagination off', '-ex', 'thread apply all bt'],
      { timeout: Math.max(1000, timeoutMs), maxBuffer: 4 * 1024 * 1024 },
      (err, stdout) => {
        const traces = stdout.split('\n').filter((line) => /^(Thread |#\d)/.test(line)).join('\n');
        resolve(err && traces === '' ? undefined : traces.slice(0, MAX_BACKTRACE_CHARS));
      },
    );
  });
}

/** Fields of /proc/<pid>/stat after the command name, from the state on. */
function procStat(pid: number): string[] | undefined {
  const stat = readProc(pid, 'stat');
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
}

function cpuTicks(pid: number): number | undefined {
  const fields = procStat(pid);
  // utime and stime are fields 14 and 15 of stat; 12 and 13 counted from the state.
  return fields ? Number(fields[11]) + Number(fields[12]) : undefined;
}

function readProc(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
