#include "snapshot.h"

namespace westream {

namespace {

// The same arithmetic, in the same order, as OpenMM's getPositions() for an
// unwrapped state, so frames match getState(enforcePeriodicBox=False) exactly.
inline void unwrap(double p[3], const OpenMM::mm_int4& o, const OpenMM::Vec3 box[3]) {
  for (int k = 0; k < 3; k++) p[k] = p[k] - box[0][k] * o.x - box[1][k] * o.y - box[2][k] * o.z;
}

inline void put(float* out, int atom, const double p[3]) {
  out[3 * atom] = static_cast<float>(p[0] * 10.0);
  out[3 * atom + 1] = static_cast<float>(p[1] * 10.0);
  out[3 * atom + 2] = static_cast<float>(p[2] * 10.0);
}

}  // namespace

bool assemblePositions(const Snapshot& s, unsigned natoms, float* out, std::string& error) {
  if (s.layout == Layout::HostVec3) {
    if (s.host.size() < natoms) {
      error = "the context returned " + std::to_string(s.host.size()) + " positions for " + std::to_string(natoms) + " atoms";
      return false;
    }
    for (unsigned i = 0; i < natoms; i++) {
      double p[3] = {s.host[i][0], s.host[i][1], s.host[i][2]};
      put(out, static_cast<int>(i), p);
    }
    return true;
  }
  if (s.order.size() < natoms || s.offsets.size() < natoms) {
    error = "the device's atom order covers fewer than " + std::to_string(natoms) + " atoms";
    return false;
  }
  const auto* f4 = static_cast<const OpenMM::mm_float4*>(s.posq.data());
  const auto* d4 = static_cast<const OpenMM::mm_double4*>(s.posq.data());
  const auto* c4 = static_cast<const OpenMM::mm_float4*>(s.correction.data());
  for (unsigned i = 0; i < natoms; i++) {
    const int atom = s.order[i];
    if (atom < 0 || static_cast<unsigned>(atom) >= natoms) {
      error = "the device's atom order names atom " + std::to_string(atom) + " of " + std::to_string(natoms);
      return false;
    }
    double p[3];
    switch (s.layout) {
      case Layout::Double4:
        p[0] = d4[i].x, p[1] = d4[i].y, p[2] = d4[i].z;
        break;
      case Layout::Float4Mixed:
        p[0] = (double)f4[i].x + (double)c4[i].x;
        p[1] = (double)f4[i].y + (double)c4[i].y;
        p[2] = (double)f4[i].z + (double)c4[i].z;
        break;
      default:
        p[0] = f4[i].x, p[1] = f4[i].y, p[2] = f4[i].z;
    }
    unwrap(p, s.offsets[i], s.box);
    put(out, atom, p);
  }
  return true;
}

void wireBox(const OpenMM::Vec3 box[3], float out[6]) {
  const double v[6] = {box[0][0], box[1][0], box[1][1], box[2][0], box[2][1], box[2][2]};
  for (int k = 0; k < 6; k++) out[k] = static_cast<float>(v[k] * 10.0);
}

}  // namespace westream
