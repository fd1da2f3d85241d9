// Registration hooks of the addon's concerns (one binding file each).
#pragma once

#include <napi.h>

namespace westream {

// Trajectory decoders (native/addon/formats_binding.cpp over native/formats).
void InitFormats(Napi::Env env, Napi::Object exports);
// Analysis kernels (native/addon/kernels_binding.cpp over native/kernels).
void InitKernels(Napi::Env env, Napi::Object exports);

}  // namespace westream
