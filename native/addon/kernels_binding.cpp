// Analysis kernel bindings. (Filled in by the analysis work.)
#include "bindings.h"

namespace westream {

void InitKernels(Napi::Env, Napi::Object) {}

}  // namespace westream
