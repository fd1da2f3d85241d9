// westream public API.
export { type Frame, OwnedFrame, copyFrame, boxDimensions } from './core/frame.js';
export {
  fromChannel,
  ChannelObservable,
  ChannelError,
  type ChannelOptions,
  type ChannelInfo,
} from './sources/channel.js';
