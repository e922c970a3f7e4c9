import { OnstageServer } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { createRootLogger } from './logger.ts';

let config;
try {
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`onstage: ${err.message}\n(see .env.example)\n`);
  process.exit(2);
}

const logger = createRootLogger(config.logLevel);
let server: OnstageServer | undefined;

// SIGINT stops at once: shows end as server_shutdown and recordings are finished. SIGTERM (what a
// deploy sends) drains first when DRAIN_TIMEOUT_MS is set; the next signal stops at once, and one
// more while stopping exits without waiting.
const exit = () => logger.flush(() => process.exit(0));
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (!server || stopping) process.exit(1);
    if (signal === 'SIGTERM' && config.drain.timeoutMs > 0 && !server.draining) {
      logger.info({ signal, timeoutMs: config.drain.timeoutMs }, 'draining');
      void server.drain(config.drain.timeoutMs);
      return;
    }
    stopping = true;
    logger.info({ signal }, 'stopping');
    void server.close();
  });
}

try {
  server = await OnstageServer.start(config, logger);
} catch (err) {
  logger.fatal({ err }, 'cannot start');
  process.exit(1);
}
if (config.auth.secretGenerated) {
  logger.warn(
    { tokenSecret: config.auth.secret },
    'development mode: no TOKEN_SECRET set, so this run signs tokens with this random secret and serves POST /api/dev/token',
  );
}
logger.info(`host a show at ${server.url}/host/demo and watch it at ${server.url}/watch/demo`);
// Flushed before exiting: the logger writes asynchronously, and the last lines matter most.
void server.stopped.then(exit);
