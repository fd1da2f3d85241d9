// Trajectory decoder bindings. (Filled in by the trajectory-sources work.)
#include "bindings.h"

namespace westream {

void InitFormats(Napi::Env, Napi::Object) {}

}  // namespace westream
