// The pipeline subscribed to a frame source, the same in every run mode:
// each frame's line printed, frames counted, the time the pipeline spends on
// them measured, the end as an Outcome, and the summary line's numbers.
import { Observable, type Subscription } from 'rxjs';

import type { Outcome } from './run-outcome.js';

export class PipelineRun<F> {
  frames = 0;
  /** When the last frame came (hrtime), or when the run started. */
  lastFrameAt: bigint;
  readonly outcome: Promise<Outcome>;
  readonly subscription: Subscription;
  /** performance.now() at the first frame and at the stream's end, and ms spent inside the pipeline. */
  private firstFrameMs: number | undefined;
  private endMs: number | undefined;
  private busyMs = 0;
  private settle!: (o: Outcome) => void;

  /**
   * `pipeline` turns the frames into printable lines (undefined: nothing to
   * print). `onComplete` runs the moment the stream completes; what it throws
   * fails the run. `started` (hrtime): where the summary's seconds count from.
   */
  constructor(
    frames$: Observable<F>,
    pipeline: (frames$: Observable<F>) => Observable<string | undefined>,
    onComplete?: () => void,
    readonly started = process.hrtime.bigint(),
  ) {
    this.lastFrameAt = started;
    this.outcome = new Promise((resolve) => (this.settle = resolve));
    this.subscription = pipeline(this.timed(frames$)).subscribe({
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

  /**
   * The frames as they come, timing each one's way through the (synchronous)
   * pipeline, output included: how busy the analysis kept this process tells
   * a user whether it or the engine paced the segment.
   */
  private timed(frames$: Observable<F>): Observable<F> {
    return new Observable<F>((subscriber) =>
      frames$.subscribe({
        next: (frame) => {
          const t = performance.now();
          this.firstFrameMs ??= t;
          subscriber.next(frame);
          this.busyMs += performance.now() - t;
        },
        error: (e) => {
          this.endMs = performance.now();
          subscriber.error(e);
        },
        complete: () => {
          this.endMs = performance.now();
          subscriber.complete();
        },
      }),
    );
  }

  /** Ends a run that is still going as failed with `error`. */
  fail(error: Error): void {
    if (this.subscription.closed) return;
    this.subscription.unsubscribe();
    this.settle({ ok: false, error });
  }

  /**
   * The closing log line: frames, rate, time from the last frame to now, and
   * the share of the stream (first frame to its end; not the engine's exit
   * after it) that the pipeline was busy: ≈ 100 %, the analysis, not the
   * engine, set the pace.
   */
  summary(natoms: number, source = ''): { fields: Record<string, number>; text: string } {
    const now = process.hrtime.bigint();
    const seconds = Number(now - this.started) / 1e9;
    const sinceFirst = this.firstFrameMs === undefined ? 0 : (this.endMs ?? performance.now()) - this.firstFrameMs;
    const busyShare = sinceFirst > 0 ? Math.min(1, this.busyMs / sinceFirst) : 0;
    const fields = {
      frames: this.frames,
      natoms,
      seconds: +seconds.toFixed(3),
      framesPerSecond: +(this.frames / seconds).toFixed(1),
      msAfterLastFrame: +(Number(now - this.lastFrameAt) / 1e6).toFixed(2),
      pipelineBusySeconds: +(this.busyMs / 1e3).toFixed(3),
      pipelineBusyShare: +busyShare.toFixed(3),
    };
    const pace = busyShare >= 0.9 ? ' (the analysis paced the stream: fewer or cheaper measures, or fewer frames, would shorten it)' : '';
    return {
      fields,
      text: `streamed ${this.frames} frame${this.frames === 1 ? '' : 's'} of ${natoms} atoms${source} in ${seconds.toFixed(3)} s; pipeline busy ${Math.round(busyShare * 100)} % of the time since the first frame${pace}`,
    };
  }
}
