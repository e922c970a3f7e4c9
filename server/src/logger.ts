import { pino, type Logger } from 'pino';

export type { Logger };

/** The one root logger; everything else uses child loggers with room / peer ids. */
export function createRootLogger(level: string): Logger {
  return pino({ level, base: { service: 'onstage' } });
}
