// pino logger on stderr: JSON by default, pretty on a terminal.
import { createRequire } from 'node:module';
import pino, { type Logger } from 'pino';

export type { Logger };

// pino-pretty is loaded only for a terminal: every segment WESTPA runs pays
// start-up time for each module loaded here.
const require = createRequire(import.meta.url);

export function createLogger(level: string = process.env.WESTREAM_LOG_LEVEL ?? 'info'): Logger {
  const options = { name: 'westream', level };
  if (process.stderr.isTTY) {
    const pretty = require('pino-pretty') as typeof import('pino-pretty');
    return pino(options, pretty({ destination: 2, sync: true, colorize: true, ignore: 'pid,hostname,name' }));
  }
  return pino(options, pino.destination({ dest: 2, sync: true }));
}
