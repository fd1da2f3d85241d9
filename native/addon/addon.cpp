// westream native addon: module registration only.
#include <napi.h>

#include "channel_binding.h"
#include "westream_wire.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Channel", westream::ChannelBinding::Define(env));
  exports.Set("protocolVersion", Napi::Number::New(env, WESTREAM_PROTOCOL_VERSION));
  return exports;
}

}  // namespace

NODE_API_MODULE(westream, Init)
