// Signals from WESTPA or the batch system: stop the engine's process group
// and remember which signal came, so the run exits with 128+N once the
// engine is gone. Shared by every `westream run` mode.
import { STOP_SIGNALS } from '../core/process-group.js';
import type { Logger } from './logger.js';

export class SignalForwarder {
  received: NodeJS.Signals | undefined;

  private readonly handler = (signal: NodeJS.Signals) => {
    this.received = signal;
    this.log.warn(`received ${signal}, stopping ${this.engine}`);
    this.stop();
  };

  constructor(
    private readonly engine: string,
    private readonly log: Logger,
    private readonly stop: () => void,
  ) {
    for (const s of STOP_SIGNALS) process.on(s, this.handler);
  }

  dispose(): void {
    for (const s of STOP_SIGNALS) process.off(s, this.handler);
  }
}
