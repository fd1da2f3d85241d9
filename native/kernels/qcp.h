// RMSD with optimal superposition by the quaternion characteristic polynomial
// (QCP; Theobald 2005, Acta Cryst A61:478; Liu, Agrafiotis & Theobald 2010,
// J Comput Chem 31:1561), on float32 frames in place.
#pragma once

#include <cstddef>
#include <cstdint>

namespace westream::kernels {

/**
 * Where the kernel may change its predicted rotation within one pass: after
 * the first QCP_CHECKPOINT_ATOMS[j] atoms of the selection, for each j with
 * 2 * QCP_CHECKPOINT_ATOMS[j] <= n (multiples of every instruction set's
 * flush block).
 */
constexpr int QCP_CHECKPOINTS = 3;
constexpr std::size_t QCP_CHECKPOINT_ATOMS[QCP_CHECKPOINTS] = {1024, 4096, 16384};

/** Sums over the first atoms of a reference (up to a checkpoint), as in QcpReference. */
struct QcpPrefix {
  double wsum;
  double w2sum;
  double rsum[3];
  double syy[6];
};

/**
 * A reference structure prepared once: its atoms centred on their (weighted)
 * centre c, stored as three float32 arrays (ideally 64-byte aligned). The
 * sums must be computed (in double) from exactly these float values:
 * qcp_reference() does it.
 */
struct QcpReference {
  const float* wx;  // x_i - c_x, n entries
  const float* wy;
  const float* wz;
  std::size_t n;
  double gb;      // sum_i w_i |r_i - c|^2
  double wsum;    // sum_i w_i (n when unweighted)
  double rsum[3]; // sum_i w_i (r_i - c) as stored (≈ 0; used to correct exactly)
  double syy[6];  // sum_i w_i (r_i - c)(r_i - c)^T: xx xy xz yy yz zz
  double w2sum;   // sum_i w_i^2 (n when unweighted)
  std::size_t shift;  // the atom (selection position) nearest the centre
  QcpPrefix prefix[QCP_CHECKPOINTS];  // over the first QCP_CHECKPOINT_ATOMS[j] atoms (those <= n)
};

/** Fills every sum of a QcpReference from its float arrays and weights (nullable). */
QcpReference qcp_reference(const float* wx, const float* wy, const float* wz, std::size_t n, const float* weights);

struct QcpArgs {
  const float* positions;  // frame, x y z interleaved
  std::size_t natoms;      // atoms in the frame
  const int32_t* index;    // selected atoms (n of them), or nullptr for atoms 0..n-1
  const float* weights;    // n weights in selection order, or nullptr
  QcpReference ref;
  double* rotation;        // out (nullable): 3x3 row-major, maps the centred mobile atoms onto the reference
  double* center;          // out (nullable): the mobile atoms' (weighted) centre
  /**
   * In/out (nullable), 5 entries: a unit quaternion predicting this frame's
   * rotation (e.g. the previous frame's; identity (1, 0, 0, 0) to start) and
   * an RMSD expected for it (the previous frame's; 0: none); receives this
   * frame's. Only speed depends on them, never the result: the kernel turns
   * the frame by the prediction before it sums float32 differences from the
   * reference, so they stay small for frames in any orientation. Anything
   * that is not a unit quaternion counts as the identity.
   */
  double* predictor = nullptr;
  /**
   * The largest entry of index, when the caller knows it (and that none is
   * negative): then only it is checked against natoms, not every index on
   * every call.
   */
  int32_t max_index = -1;
};

/** What the QCP kernel did since the process started (benchmarks, tests; counts from threads calling it at the same time may be lost). */
struct QcpCounters {
  std::uint64_t calls;
  std::uint64_t float_passes;   // float32 passes over the frame (1 per call when the first is accurate enough)
  std::uint64_t double_passes;  // double-precision passes (the last resort)
  std::uint64_t refinements;    // predictions replaced within a pass at a checkpoint
};
QcpCounters qcp_counters();

/**
 * Minimum RMSD between the selected atoms of a frame and the reference after
 * optimal translation and rotation (weighted: sqrt(sum w d^2 / sum w)).
 * Throws std::out_of_range for an index outside the frame,
 * std::invalid_argument for inconsistent sizes.
 */
double qcp_rmsd(const QcpArgs& args);

/** The QCP solve alone: inner-product matrix A (a_ij = sum w r_i m_j) and E0 = (Ga + Gb) / 2. */
double qcp_solve(const double A[9], double e0, double wsum, double* rotation);

struct TransformedRmsdArgs {
  const float* positions;
  std::size_t natoms;
  const int32_t* index;    // n atoms, or nullptr for 0..n-1
  std::size_t n;
  const float* weights;    // n, or nullptr
  const float* rx;         // reference atoms relative to the fit reference's centre (n each)
  const float* ry;
  const float* rz;
  const double* rotation;  // 3x3 row-major
  const double* center;    // mobile fit centre (subtracted before rotating)
};

/** sqrt(sum w |R (m - c) - r|^2 / sum w): RMSD of another group after a fit. */
double transformed_rmsd(const TransformedRmsdArgs& args);

}  // namespace westream::kernels
