// pino logger on stderr: JSON by default, pretty on a terminal.
import { pino, type Logger } from 'pino';

export type { Logger };

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'silent'];

export async function createLogger(level: string = process.env.WESTREAM_LOG_LEVEL || 'info'): Promise<Logger> {
  if (!LOG_LEVELS.includes(level)) {
    process.stderr.write(`westream: WESTREAM_LOG_LEVEL=${level} is not a log level (${LOG_LEVELS.join(', ')}); using info\n`);
    level = 'info';
  }
  const options = { name: 'westream', level };
  if (process.stderr.isTTY) {
    // Loaded only for a terminal: WESTPA segments log to files.
    const { default: pretty } = await import('pino-pretty');
    return pino(options, pretty({ destination: 2, sync: true, colorize: true, ignore: 'pid,hostname,name' }));
  }
  return pino(options, pino.destination({ dest: 2, sync: true }));
}
