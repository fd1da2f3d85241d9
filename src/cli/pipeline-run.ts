// The pipeline subscribed to a frame source, the same in every run mode:
// each frame's line printed, frames counted, the end as an Outcome, and the
// summary line's numbers.
import type { Observable, Subscription } from 'rxjs';

import type { Outcome } from './run-outcome.js';

export class PipelineRun {
  frames = 0;
  /** When the last frame came (hrtime), or when the run started. */
  lastFrameAt: bigint;
  readonly outcome: Promise<Outcome>;
  readonly subscription: Subscription;
  private settle!: (o: Outcome) => void;

  /**
   * `onComplete` runs the moment the stream completes; what it throws fails
   * the run. `started` (hrtime): where the summary's seconds count from.
   */
  constructor(
    lines$: Observable<string | undefined>,
    onComplete?: () => void,
    readonly started = process.hrtime.bigint(),
  ) {
    this.lastFrameAt = started;
    this.outcome = new Promise((resolve) => (this.settle = resolve));
    this.subscription = lines$.subscribe({
      next: (line) => {
        this.frames++;
        this.lastFrameAt = process.hrtime.bigint();
        if (line !== undefined) process.stdout.write(line + '\n');
      },
      error: (error: Error) => this.settle({ ok: false, error }),
      complete: () => {
        try {
          onComplete?.();
          this.settle({ ok: true, frames: this.frames });
        } catch (error) {
          this.settle({ ok: false, error: error as Error });
        }
      },
    });
  }

  /** Ends a run that is still going as failed with `error`. */
  fail(error: Error): void {
    if (this.subscription.closed) return;
    this.subscription.unsubscribe();
    this.settle({ ok: false, error });
  }

  /** The numbers of the closing log line: frames, rate, time from the last frame to now. */
  summary(natoms: number): { fields: Record<string, number>; text: string } {
    const now = process.hrtime.bigint();
    const seconds = Number(now - this.started) / 1e9;
    const fields = {
      frames: this.frames,
      natoms,
      seconds: +seconds.toFixed(3),
      framesPerSecond: +(this.frames / seconds).toFixed(1),
      msAfterLastFrame: +(Number(now - this.lastFrameAt) / 1e6).toFixed(2),
    };
    return { fields, text: `streamed ${this.frames} frames of ${natoms} atoms` };
  }
}
