// pino logger on stderr: JSON by default, pretty on a terminal.
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export function createLogger(level: string = process.env.WESTREAM_LOG_LEVEL ?? 'info'): Logger {
  const options = { name: 'westream', level };
  if (process.stderr.isTTY) {
    return pino(options, pretty({ destination: 2, sync: true, colorize: true, ignore: 'pid,hostname,name' }));
  }
  return pino(options, pino.destination({ dest: 2, sync: true }));
}
