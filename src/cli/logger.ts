// pino logger on stderr: JSON by default, pretty on a terminal.
import { createRequire } from 'node:module';
import type { Logger } from 'pino';

export type { Logger };

// Every segment WESTPA runs pays start-up time for each module loaded here:
// pino is required as the CommonJS package it is (importing it through
// Node's ES module loader costs more), pino-pretty only for a terminal.
const require = createRequire(import.meta.url);

export function createLogger(level: string = process.env.WESTREAM_LOG_LEVEL ?? 'info'): Logger {
  const pino = require('pino') as typeof import('pino');
  const options = { name: 'westream', level };
  if (process.stderr.isTTY) {
    const pretty = require('pino-pretty') as typeof import('pino-pretty');
    return pino(options, pretty({ destination: 2, sync: true, colorize: true, ignore: 'pid,hostname,name' }));
  }
  return pino(options, pino.destination({ dest: 2, sync: true }));
}
