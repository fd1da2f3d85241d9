// fromChannel: frames from a producer process over shared memory.
import { Observable, type Subscriber } from 'rxjs';

import { BorrowedFrame, type Frame } from '../core/frame.js';
import { native, type NativeChannel, type NativeChannelInfo } from '../core/native.js';

// Must match westream_wire.h.
const HAS_STEP = 1;
const HAS_TIME = 2;
const HAS_BOX = 4;

export interface ChannelOptions {
  /** Socket path, or "@name" for the abstract namespace. Default: a fresh path in a private 0700 directory. */
  address?: string;
  /** With no address: use an abstract socket instead of a file. */
  abstract?: boolean;
  /** Ring depth; default: the producer's hint, else what fits in 4 MiB (8 to 1024 slots; capped by ringBudgetMiB). */
  nslots?: number;
  /** Refuse producers that announce another atom count. */
  expectAtoms?: number;
  /** Memory cap for the ring when choosing its depth (default 1024 MiB). */
  ringBudgetMiB?: number;
  /** Copy every frame instead of zero-copy views (also WESTREAM_COPY_FRAMES=1). */
  copy?: boolean;
  /** Called once the producer has connected and the ring is set up. */
  onConnect?: (info: ChannelInfo) => void;
  /** Non-fatal notices, e.g. a refused peer with another uid. */
  onWarning?: (message: string) => void;
}

export interface ChannelInfo {
  natoms: number;
  nslots: number;
  pid: number;
  velocities: boolean;
  forces: boolean;
  /** Why frames are copied instead of zero-copy views, when they are. */
  copyReason?: string;
}

/** The stream failed: producer died, garbage on the socket, corrupt ring, ... */
export class ChannelError extends Error {
  override name = 'ChannelError';
}

/** Shared memory slot views, created once per channel. */
class SlotViews {
  private readonly positions: Float32Array[] = [];
  private readonly velocities: (Float32Array | undefined)[] = [];
  private readonly forces: (Float32Array | undefined)[] = [];
  private readonly boxes: Float32Array[] = [];

  constructor(private readonly info: NativeChannelInfo) {
    if (info.buffer) {
      for (let s = 0; s < info.nslots; s++) this.pushViews(info.buffer, s * info.slotStride);
    }
  }

  private pushViews(buffer: ArrayBuffer, base: number): number {
    const n = this.info.natoms * 3;
    const [p, v, f] = this.info.arrayOffsets;
    this.positions.push(new Float32Array(buffer, base + p, n));
    this.velocities.push(v ? new Float32Array(buffer, base + v, n) : undefined);
    this.forces.push(f ? new Float32Array(buffer, base + f, n) : undefined);
    this.boxes.push(new Float32Array(buffer, base + this.info.boxOffset, 6));
    return this.positions.length - 1;
  }

  frame(slot: number, index: number, step: number, time: number, flags: number, copy: ArrayBuffer | null): Frame {
    let i = slot;
    if (copy) {
      // Copy mode: the native side handed us a private copy of the slot.
      this.positions.length = this.velocities.length = this.forces.length = this.boxes.length = 0;
      i = this.pushViews(copy, 0);
    }
    return new BorrowedFrame(
      index,
      this.info.natoms,
      this.positions[i],
      flags & HAS_STEP ? step : undefined,
      flags & HAS_TIME ? time : undefined,
      flags & HAS_BOX ? this.boxes[i] : undefined,
      this.velocities[i],
      this.forces[i],
    );
  }
}

/**
 * An Observable of the frames one producer process streams. The channel is
 * listening as soon as this is created, so `address` can be handed to the
 * producer (as WESTREAM_ADDRESS) before or after subscribing. One subscriber
 * only; unsubscribing (or completion, or an error) tears everything down,
 * including the socket file. Call `close()` if you never subscribe.
 */
export class ChannelObservable extends Observable<Frame> {
  readonly address: string;
  private readonly channel: NativeChannel;
  private subscribed = false;

  constructor(options: ChannelOptions = {}) {
    // `this` is not available inside super()'s arguments; bind it after.
    let self: ChannelObservable | undefined = undefined;
    super((subscriber) => self!.run(subscriber, options));
    self = this;
    const copy = options.copy ?? process.env.WESTREAM_COPY_FRAMES === '1';
    this.channel = new (native().Channel)({
      address: options.address,
      abstract: options.abstract,
      nslots: options.nslots,
      expectAtoms: options.expectAtoms,
      ringBudgetMiB: options.ringBudgetMiB,
      copy,
    });
    this.address = this.channel.address;
  }

  /** Stops listening and removes the socket, without waiting for a subscriber. */
  close(): void {
    this.channel.close();
  }

  private run(subscriber: Subscriber<Frame>, options: ChannelOptions): () => void {
    if (this.subscribed) {
      subscriber.error(new ChannelError(`channel ${this.address} already has a subscriber`));
      return () => {};
    }
    this.subscribed = true;
    let views: SlotViews | undefined;
    this.channel.start({
      onConnect: (info) => {
        views = new SlotViews(info);
        options.onConnect?.({
          natoms: info.natoms,
          nslots: info.nslots,
          pid: info.pid,
          velocities: info.arrayOffsets[1] !== 0,
          forces: info.arrayOffsets[2] !== 0,
          ...(info.copy ? { copyReason: info.copyReason ?? 'copy requested' } : {}),
        });
      },
      onFrame: (slot, index, step, time, flags, copy) => {
        subscriber.next(views!.frame(slot, index, step, time, flags, copy));
      },
      onEnd: () => subscriber.complete(),
      onError: (message) => subscriber.error(new ChannelError(message)),
      onWarning: (message) => options.onWarning?.(message.trimEnd()),
    });
    return () => this.channel.close();
  }
}

/** Creates a channel and returns its frames as an Observable (see ChannelObservable). */
export function fromChannel(options: ChannelOptions = {}): ChannelObservable {
  return new ChannelObservable(options);
}
