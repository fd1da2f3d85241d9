// Centre of mass / geometry and radius of gyration of a group of atoms.
#pragma once

#include <cstddef>
#include <cstdint>

namespace westream::kernels {

struct CenterArgs {
  const float* positions;  // x y z interleaved
  std::size_t natoms;
  const int32_t* index;    // n atoms, or nullptr for 0..n-1
  std::size_t n;
  const float* weights;    // n weights (masses) in selection order, or nullptr for the geometric centre
};

struct CenterResult {
  double center[3];
  /** sqrt(sum w |r - c|^2 / sum w). */
  double rg;
  double wsum;
};

/** One pass over the group: weighted centre and radius of gyration. Throws on bad indices or zero total weight. */
CenterResult center_rg(const CenterArgs& args);

}  // namespace westream::kernels
