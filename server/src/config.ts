import os from 'node:os';
import { isIP } from 'node:net';
import { z } from 'zod';

const Port = z.coerce.number().int().min(0).max(65535);
const Ip = z.string().refine((s) => isIP(s) !== 0, 'must be an IPv4 or IPv6 address');

/** Environment variables the server reads (see .env.example). Unknown variables are ignored. */
const EnvSchema = z.object({
  HOST: Ip.default('127.0.0.1'),
  PORT: Port.default(3000),
  RTC_LISTEN_IP: Ip.optional(),
  ANNOUNCED_ADDRESS: z.string().min(1).optional(),
  RTC_PORT: Port.default(40000),
  WORKERS: z.coerce.number().int().min(1).max(128).default(os.availableParallelism()),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MEDIASOUP_WORKER_BIN: z.string().min(1).optional(),
});

export type Config = {
  http: { host: string; port: number };
  rtc: {
    listenIp: string;
    announcedAddress: string;
    /** First WebRtcServer port; worker i listens on basePort + i (UDP and TCP). 0 = any free port. */
    basePort: number;
  };
  workers: number;
  workerBin: string | undefined;
  logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const WILDCARDS = new Set(['0.0.0.0', '::']);

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}=${JSON.stringify(env[String(i.path[0])])}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const listenIp = e.RTC_LISTEN_IP ?? e.HOST;
  const announcedAddress = e.ANNOUNCED_ADDRESS ?? (WILDCARDS.has(listenIp) ? undefined : listenIp);
  if (announcedAddress === undefined) {
    throw new ConfigError(
      `invalid configuration:\n  ANNOUNCED_ADDRESS is required when media listens on ${listenIp}: ` +
        'set it to the IP (or hostname) that browsers can reach, e.g. your LAN or public IP',
    );
  }
  if (e.RTC_PORT > 0 && e.RTC_PORT + e.WORKERS - 1 > 65535) {
    throw new ConfigError(`invalid configuration:\n  RTC_PORT=${e.RTC_PORT} leaves no room for ${e.WORKERS} workers`);
  }
  return {
    http: { host: e.HOST, port: e.PORT },
    rtc: { listenIp, announcedAddress, basePort: e.RTC_PORT },
    workers: e.WORKERS,
    workerBin: e.MEDIASOUP_WORKER_BIN,
    logLevel: e.LOG_LEVEL,
  };
}
