#include "stream_force.h"

#include "stream_error.h"
#include "stream_force_impl.h"

namespace westream {

StreamForce::StreamForce(int interval, const std::string& address, int nslots)
    : interval_(interval), address_(address), nslots_(nslots) {
  if (interval < 1) throw StreamError(WESTREAM_E_ARGUMENT, "interval must be a positive number of steps, got " + std::to_string(interval));
  if (nslots < 0) throw StreamError(WESTREAM_E_ARGUMENT, "nslots must be >= 0, got " + std::to_string(nslots));
}

OpenMM::ForceImpl* StreamForce::createImpl() const { return new StreamForceImpl(*this); }

void StreamForce::finish(OpenMM::Context& context) const {
  static_cast<StreamForceImpl&>(getImplInContext(context)).finish(getContextImpl(context));
}

void StreamForce::close(OpenMM::Context& context) const { static_cast<StreamForceImpl&>(getImplInContext(context)).close(); }

double StreamForce::engineSeconds(OpenMM::Context& context) const {
  return static_cast<StreamForceImpl&>(getImplInContext(context)).engineSeconds();
}

std::uint64_t StreamForce::frames(OpenMM::Context& context) const {
  return static_cast<StreamForceImpl&>(getImplInContext(context)).frames();
}

}  // namespace westream
