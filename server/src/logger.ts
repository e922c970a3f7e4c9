import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** The one root logger; everything else uses child loggers with room / peer ids. Writes to stdout unless given a destination. */
export function createRootLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, base: { service: 'onstage' } }, destination);
}
