// Distances between groups of atoms with the minimum-image convention
// (orthorhombic and triclinic boxes), and the reductions built on them:
// distance arrays, minimum distance, counts within a cutoff, pair lists,
// and "within a cutoff of a group" masks for dynamic selections.
#pragma once

#include <cstddef>
#include <cstdint>

namespace westream::kernels {

/** A group of atoms in a frame: `index` (n entries) or atoms 0..n-1. */
struct Group {
  const float* positions;
  std::size_t natoms;
  const int32_t* index;
  std::size_t n;
};

/**
 * out[i * b.n + j] = |b_j - a_i| (minimum image when box != nullptr), float32.
 * `out` holds a.n * b.n floats.
 */
void distance_array(const Group& a, const Group& b, const float* box, float* out);

struct DistanceStats {
  double min;             // smallest distance (+inf for empty groups)
  std::size_t within;     // pairs with distance <= cutoff
};

/** Minimum distance between two groups and the number of pairs within `cutoff` (double precision). */
DistanceStats distance_stats(const Group& a, const Group& b, const float* box, double cutoff);

/** out[k] = distance between atoms pairs[2k] and pairs[2k+1] of the frame (double precision). */
void pair_distances(const float* positions, std::size_t natoms, const int32_t* pairs, std::size_t npairs, const float* box,
                    double* out);

/**
 * For every atom j of `candidates` within `cutoff` (<=) of any atom of `ref`:
 * mask[atom index of j] = 1. `mask` has natoms entries and is not cleared.
 */
void within_mask(const Group& ref, const Group& candidates, const float* box, double cutoff, uint8_t* mask);

}  // namespace westream::kernels
