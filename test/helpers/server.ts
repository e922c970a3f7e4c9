import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OnstageServer } from '../../server/src/app.ts';
import { loadConfig } from '../../server/src/config.ts';
import { createRootLogger } from '../../server/src/logger.ts';

/** The token secret of every test server. */
export const TEST_SECRET = 'test-secret-test-secret-test-secret-0123';

/**
 * A real Onstage node on loopback with OS-chosen ports; logs only warnings unless LOG_LEVEL says more.
 * HLS/recording is off unless a test turns it on (FFmpeg would load the shared 2-core machine), and
 * then writes into a fresh temporary directory. `logTo` receives the log entries instead of stdout.
 */
export async function startServer(env: Record<string, string> = {}, logTo?: (entry: Record<string, unknown>) => void): Promise<OnstageServer> {
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    RTC_PORT: '0',
    RTMP_PORT: '0',
    WORKERS: '1',
    LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'warn',
    TOKEN_SECRET: TEST_SECRET,
    DEV_TOKENS: 'true',
    HLS: 'false',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'onstage-data-')),
    ...env,
  });
  const destination = logTo && { write: (line: string) => logTo(JSON.parse(line) as Record<string, unknown>) };
  return OnstageServer.start(config, createRootLogger(config.logLevel, destination));
}
