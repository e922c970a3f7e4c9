import { pino, type DestinationStream, type Logger } from 'pino';
import { PinoPretty } from 'pino-pretty';

export type { Logger };

/**
 * The one root logger; everything else uses child loggers with room / peer ids. Writes to stdout
 * unless given a destination: readable lines when stdout is a terminal (a person is watching),
 * JSON lines otherwise (a log collector is).
 */
export function createRootLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, base: { service: 'onstage' } };
  if (destination) return pino(options, destination);
  if (process.stdout.isTTY) return pino(options, PinoPretty({ colorize: true, ignore: 'pid,hostname,service', translateTime: 'HH:MM:ss.l' }));
  return pino(options);
}
