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

// Registered before any mediasoup worker exists: mediasoup adds its own SIGINT/SIGTERM listeners
// that close every worker, and ours must run first so shows end as server_shutdown, not as a
// media failure of workers that seem to have died.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    logger.info({ signal }, 'stopping');
    // Flush before exiting: the logger writes asynchronously, and the last lines matter most.
    const stopped = server ? server.close() : Promise.resolve();
    stopped.then(() => logger.flush(() => process.exit(0)));
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
