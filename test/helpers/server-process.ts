import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_SECRET } from './server.ts';

export type ServerProcess = { pid: number; url: string; log: string[]; exited: Promise<number | null>; dataDir: string };

/**
 * `npm start`'s own entry point in a process group of its own, as a service manager runs it:
 * killing the group (`process.kill(-pid, ...)`) takes its mediasoup workers too, as a machine's death would.
 */
export function startServerProcess(env: Record<string, string> = {}): Promise<ServerProcess> {
  const dataDir = env['DATA_DIR'] ?? mkdtempSync(join(tmpdir(), 'onstage-process-'));
  const child = spawn(process.execPath, ['server/src/main.ts'], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PORT: '0',
      RTC_PORT: '0',
      RTMP_PORT: '0',
      WORKERS: '2',
      HLS: 'false',
      LOG_LEVEL: 'info',
      TOKEN_SECRET: TEST_SECRET,
      DEV_TOKENS: 'true',
      DATA_DIR: dataDir,
      ...env,
    },
  });
  const log: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let partial = '';
    const onData = (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        log.push(line);
        const up = /"url":"([^"]+)".*"msg":"Onstage is up"/.exec(line);
        if (up) resolve({ pid: child.pid!, url: up[1]!, log, exited, dataDir });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => reject(new Error(`server exited (${code}) before it was up:\n${log.join('\n')}`)));
    // The "up" line is logged at info: a lower LOG_LEVEL would wait here for ever.
    setTimeout(() => reject(new Error(`server not up within 30 s:\n${log.join('\n')}`)), 30_000).unref();
  });
}
