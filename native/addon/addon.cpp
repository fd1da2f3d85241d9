// westream native addon: module registration only. Each concern registers
// its own exports (channel here; formats and kernels in their binding files).
#include <napi.h>

#include "bindings.h"
#include "channel_binding.h"
#include "westream_wire.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Channel", westream::ChannelBinding::Define(env));
  exports.Set("protocolVersion", Napi::Number::New(env, WESTREAM_PROTOCOL_VERSION));
  westream::InitFormats(env, exports);
  westream::InitKernels(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(westream, Init)
