// Loads the native addon: build/Release/westream.node, or WESTREAM_ADDON
// (an absolute path; used to test the node-gyp build of the same sources).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export interface NativeChannelInfo {
  natoms: number;
  nslots: number;
  content: number;
  pid: number;
  slotStride: number;
  arrayOffsets: [number, number, number];
  boxOffset: number;
  buffer: ArrayBuffer | null;
  copy: boolean;
  copyReason?: string;
}

export interface NativeChannelCallbacks {
  onConnect(info: NativeChannelInfo): void;
  onFrame(slot: number, index: number, step: number, time: number, flags: number, copy: ArrayBuffer | null): void;
  onEnd(frames: number): void;
  onError(message: string): void;
  onWarning(message: string): void;
}

export interface NativeChannel {
  readonly address: string;
  readonly state: string;
  start(callbacks: NativeChannelCallbacks): void;
  close(): void;
}

export interface NativeAddon {
  Channel: new (options: {
    address?: string;
    abstract?: boolean;
    nslots?: number;
    expectAtoms?: number;
    ringBudgetMiB?: number;
    copy?: boolean;
  }) => NativeChannel;
  protocolVersion: number;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Absolute path of the project's build output (addon, libwestream, tools). */
export const buildDir = path.join(root, 'build', 'Release');

let addon: NativeAddon | undefined;

export function native(): NativeAddon {
  if (!addon) {
    const file = process.env.WESTREAM_ADDON || path.join(buildDir, 'westream.node');
    try {
      addon = createRequire(import.meta.url)(file) as NativeAddon;
    } catch (e) {
      throw new Error(
        `cannot load the westream native addon from ${file}: ${(e as Error).message}\n` +
          'Build it with `npm ci` (or `npx cmake-js build`) in the westream folder.',
      );
    }
  }
  return addon;
}
