// QCP RMSD kernel: against a naive double-precision fit, rotation recovery,
// weights, index arrays, every tail length, every instruction set, bad input.
#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "kernels_helpers.h"
#include "qcp.h"

namespace k = westream::kernels;

namespace {

/**
 * A reference prepared as the JS side does it: float32 centred arrays, x, y
 * and z each `stride` floats apart (padded to 16 atoms), sums from the floats
 * by qcp_reference().
 */
struct Ref {
  std::vector<float> xyz;
  std::size_t stride;
  k::QcpReference r;
  Ref(const std::vector<float>& p, const std::vector<int32_t>& idx, const std::vector<float>* w) {
    const std::size_t n = idx.size();
    double c[3] = {0, 0, 0}, W = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double wi = w ? (*w)[i] : 1.0;
      W += wi;
      for (int d = 0; d < 3; ++d) c[d] += wi * p[3 * idx[i] + d];
    }
    for (double& v : c) v /= W;
    stride = (n + 15) / 16 * 16;
    xyz.assign(3 * stride, -1e6f);  // padding: never read
    for (std::size_t i = 0; i < n; ++i)
      for (int d = 0; d < 3; ++d) xyz[d * stride + i] = float(p[3 * idx[i] + d] - c[d]);
    r = k::qcp_reference(xyz.data(), xyz.data() + stride, xyz.data() + 2 * stride, n, w ? w->data() : nullptr);
  }
  k::QcpReference view() const { return r; }
};

/** Every atom (plain, and with water-like masses O H H) and every stride-th atom with its mass: the three groups the large tests check. */
struct Groups {
  static std::vector<int32_t> every(std::size_t n, std::size_t stride) {
    std::vector<int32_t> idx;
    for (std::size_t i = 0; i < n; i += stride) idx.push_back(int32_t(i));
    return idx;
  }
  static std::vector<float> masses(const std::vector<int32_t>& idx) {
    std::vector<float> w(idx.size());
    for (std::size_t i = 0; i < idx.size(); ++i) w[i] = idx[i] % 3 ? 1.008f : 15.999f;
    return w;
  }
  std::vector<int32_t> all, some;
  std::vector<float> w, ws;
  Ref plain, weighted, indexed;
  Groups(const std::vector<float>& ref, std::size_t stride)
      : all(every(ref.size() / 3, 1)), some(every(ref.size() / 3, stride)), w(masses(all)), ws(masses(some)),
        plain(ref, all, nullptr), weighted(ref, all, &w), indexed(ref, some, &ws) {}
};

/** The exact (double) RMSD after optimal superposition of the selected atoms, for the same float inputs. */
double exact_rmsd(const std::vector<float>& m, const Ref& ref, const std::vector<int32_t>* idx, const std::vector<float>* w) {
  const std::size_t n = ref.r.n;
  double cm[3] = {0, 0, 0}, W = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t k = idx ? std::size_t((*idx)[i]) : i;
    const double wi = w ? (*w)[i] : 1.0;
    W += wi;
    for (int d = 0; d < 3; ++d) cm[d] += wi * m[3 * k + d];
  }
  for (double& v : cm) v /= W;
  double A[9] = {0}, ga = 0, rs[3] = {0, 0, 0}, gb = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t k = idx ? std::size_t((*idx)[i]) : i;
    const double wi = w ? (*w)[i] : 1.0;
    const double u[3] = {m[3 * k] - cm[0], m[3 * k + 1] - cm[1], m[3 * k + 2] - cm[2]};
    const double y[3] = {ref.xyz[i], ref.xyz[ref.stride + i], ref.xyz[2 * ref.stride + i]};
    ga += wi * (u[0] * u[0] + u[1] * u[1] + u[2] * u[2]);
    gb += wi * (y[0] * y[0] + y[1] * y[1] + y[2] * y[2]);
    for (int a = 0; a < 3; ++a) {
      rs[a] += wi * y[a];
      for (int b = 0; b < 3; ++b) A[3 * a + b] += wi * y[a] * u[b];
    }
  }
  gb -= (rs[0] * rs[0] + rs[1] * rs[1] + rs[2] * rs[2]) / W;  // the stored reference is centred only to float precision
  return k::qcp_solve(A, 0.5 * (ga + gb), W, nullptr);
}

/** sqrt(sum w |R (m - cm) - (r - cr)|^2 / W) for a given rotation, in double. */
double rmsd_with(const std::vector<float>& m, const std::vector<float>& r, const std::vector<int32_t>& idx, const double R[9],
                 const std::vector<float>* w) {
  double cm[3] = {0, 0, 0}, cr[3] = {0, 0, 0}, W = 0;
  for (std::size_t i = 0; i < idx.size(); ++i) {
    const double wi = w ? (*w)[i] : 1.0;
    W += wi;
    for (int d = 0; d < 3; ++d) cm[d] += wi * m[3 * idx[i] + d], cr[d] += wi * r[3 * idx[i] + d];
  }
  for (int d = 0; d < 3; ++d) cm[d] /= W, cr[d] /= W;
  double s = 0;
  for (std::size_t i = 0; i < idx.size(); ++i) {
    double v[3], e[3];
    for (int d = 0; d < 3; ++d) v[d] = m[3 * idx[i] + d] - cm[d];
    for (int d = 0; d < 3; ++d) e[d] = R[3 * d] * v[0] + R[3 * d + 1] * v[1] + R[3 * d + 2] * v[2] - (r[3 * idx[i] + d] - cr[d]);
    s += (w ? (*w)[i] : 1.0) * (e[0] * e[0] + e[1] * e[1] + e[2] * e[2]);
  }
  return std::sqrt(s / W);
}

/** R = the rotation of quaternion q, as the kernel writes rotations. */
void rotation_of(const double q[4], double R[9]) {
  const double a2 = q[0] * q[0], x2 = q[1] * q[1], y2 = q[2] * q[2], z2 = q[3] * q[3];
  const double xy = q[1] * q[2], az = q[0] * q[3], zx = q[3] * q[1], ay = q[0] * q[2], yz = q[2] * q[3], ax = q[0] * q[1];
  const double M[9] = {a2 + x2 - y2 - z2, 2 * (xy + az), 2 * (zx - ay), 2 * (xy - az), a2 - x2 + y2 - z2, 2 * (yz + ax), 2 * (zx + ay), 2 * (yz - ax), a2 - x2 - y2 + z2};
  for (int k = 0; k < 9; ++k) R[k] = M[k];
}

/** C = A B (3x3). */
void matmul(const double A[9], const double B[9], double C[9]) {
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) C[3 * i + j] = A[3 * i] * B[j] + A[3 * i + 1] * B[3 + j] + A[3 * i + 2] * B[6 + j];
}

/** A turn by `degrees` about a random axis. */
void small_rotation(std::mt19937& g, double degrees, double R[9]) {
  std::normal_distribution<double> d;
  double ax[3] = {d(g), d(g), d(g)};
  const double n = std::sqrt(ax[0] * ax[0] + ax[1] * ax[1] + ax[2] * ax[2]);
  const double h = degrees * M_PI / 360;
  const double q[4] = {std::cos(h), std::sin(h) * ax[0] / n, std::sin(h) * ax[1] / n, std::sin(h) * ax[2] / n};
  rotation_of(q, R);
}

k::QcpCounters since(const k::QcpCounters& before) {
  const k::QcpCounters now = k::qcp_counters();
  return k::QcpCounters{now.calls - before.calls, now.float_passes - before.float_passes, now.double_passes - before.double_passes,
                        now.refinements - before.refinements};
}

std::vector<float> moved(const std::vector<float>& p, const double R[9], const double t[3], float noise, unsigned seed) {
  std::vector<float> out(p.size());
  auto jitter = kt::random_positions(p.size() / 3, seed, -noise, noise);
  for (std::size_t i = 0; i < p.size(); i += 3) {
    for (int d = 0; d < 3; ++d)
      out[i + d] = float(R[3 * d] * p[i] + R[3 * d + 1] * p[i + 1] + R[3 * d + 2] * p[i + 2] + t[d] + jitter[i + d]);
  }
  return out;
}

}  // namespace

TEST(KernelsQcp, RecoversARigidMotionExactly) {
  kt::for_each_isa([](k::Isa) {
    for (std::size_t n : {3u, 7u, 16u, 33u, 250u, 1001u}) {
      auto ref = kt::random_positions(n, 1 + n);
      double R[9], t[3] = {12.5, -40.0, 3.25};
      kt::random_rotation(7 + n, R);
      auto mob = moved(ref, R, t, 0.0f, 1);
      std::vector<int32_t> all(n);
      for (std::size_t i = 0; i < n; ++i) all[i] = int32_t(i);
      Ref r(ref, all, nullptr);
      double rot[9], center[3];
      k::QcpArgs a{mob.data(), n, nullptr, nullptr, r.view(), rot, center};
      const double rmsd = k::qcp_rmsd(a);
      EXPECT_LT(rmsd, 1e-4) << n << " atoms";
      // the rotation maps the mobile structure back onto the reference: R_found = R^T
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) EXPECT_NEAR(rot[3 * i + j], R[3 * j + i], 2e-5) << n << " atoms";
    }
  });
}

TEST(KernelsQcp, MatchesANaiveFitForPerturbedStructures) {
  kt::for_each_isa([](k::Isa) {
    for (std::size_t n : {5u, 17u, 64u, 129u, 2000u}) {
      for (float noise : {0.01f, 0.3f, 2.0f}) {
        auto ref = kt::random_positions(n, 100 + n);
        double R[9], t[3] = {-5, 8, 60};
        kt::random_rotation(3 + n, R);
        auto mob = moved(ref, R, t, noise, 9 + n);
        std::vector<int32_t> all(n);
        for (std::size_t i = 0; i < n; ++i) all[i] = int32_t(i);
        Ref r(ref, all, nullptr);
        double rot[9];
        const double rmsd = k::qcp_rmsd(k::QcpArgs{mob.data(), n, nullptr, nullptr, r.view(), rot, nullptr});
        // the RMSD after applying the returned rotation, computed naively, is the same number
        EXPECT_NEAR(rmsd, rmsd_with(mob, ref, all, rot, nullptr), 2e-5) << n << " atoms, noise " << noise;
        // and no worse than the true motion's inverse
        double Rt[9];
        for (int i = 0; i < 3; ++i)
          for (int j = 0; j < 3; ++j) Rt[3 * i + j] = R[3 * j + i];
        EXPECT_LE(rmsd, rmsd_with(mob, ref, all, Rt, nullptr) + 1e-6);
      }
    }
  });
}

TEST(KernelsQcp, IndexedAndWeightedSelections) {
  kt::for_each_isa([](k::Isa) {
    const std::size_t natoms = 600;
    auto ref = kt::random_positions(natoms, 5);
    double R[9], t[3] = {1, 2, 3};
    kt::random_rotation(11, R);
    auto mob = moved(ref, R, t, 0.5f, 12);
    for (std::size_t n : {1u, 9u, 31u, 200u}) {
      std::vector<int32_t> idx;
      for (std::size_t i = 0; i < n; ++i) idx.push_back(int32_t((i * 37 + 11) % natoms));
      std::vector<float> w(n);
      for (std::size_t i = 0; i < n; ++i) w[i] = 1.0f + float(i % 5) * 3.0f;
      for (const std::vector<float>* weights : {static_cast<const std::vector<float>*>(nullptr), static_cast<const std::vector<float>*>(&w)}) {
        Ref r(ref, idx, weights);
        double rot[9], center[3];
        const double rmsd =
            k::qcp_rmsd(k::QcpArgs{mob.data(), natoms, idx.data(), weights ? weights->data() : nullptr, r.view(), rot, center});
        EXPECT_NEAR(rmsd, rmsd_with(mob, ref, idx, rot, weights), 1e-5) << n;
        double cm[3] = {0, 0, 0}, W = 0;
        for (std::size_t i = 0; i < n; ++i) {
          const double wi = weights ? w[i] : 1.0;
          W += wi;
          for (int d = 0; d < 3; ++d) cm[d] += wi * mob[3 * idx[i] + d];
        }
        for (int d = 0; d < 3; ++d) EXPECT_NEAR(center[d], cm[d] / W, 1e-4);
      }
    }
  });
}

TEST(KernelsQcp, TransformedRmsdOfAnotherGroup) {
  kt::for_each_isa([](k::Isa) {
    const std::size_t natoms = 300;
    auto ref = kt::random_positions(natoms, 21);
    double R[9], t[3] = {-3, 0.5, 9};
    kt::random_rotation(22, R);
    auto mob = moved(ref, R, t, 0.0f, 1);
    std::vector<int32_t> fit(100), other(57);
    for (std::size_t i = 0; i < fit.size(); ++i) fit[i] = int32_t(i);
    for (std::size_t i = 0; i < other.size(); ++i) other[i] = int32_t(150 + 2 * i);
    Ref rf(ref, fit, nullptr);
    double rot[9], center[3];
    k::qcp_rmsd(k::QcpArgs{mob.data(), natoms, fit.data(), nullptr, rf.view(), rot, center});
    // reference of the other group relative to the fit group's reference centre
    double cr[3] = {0, 0, 0};
    for (int32_t i : fit)
      for (int d = 0; d < 3; ++d) cr[d] += ref[3 * i + d] / fit.size();
    std::vector<float> x, y, z;
    for (int32_t i : other) x.push_back(float(ref[3 * i] - cr[0])), y.push_back(float(ref[3 * i + 1] - cr[1])), z.push_back(float(ref[3 * i + 2] - cr[2]));
    const double v = k::transformed_rmsd(k::TransformedRmsdArgs{mob.data(), natoms, other.data(), other.size(), nullptr, x.data(), y.data(), z.data(), rot, center});
    EXPECT_LT(v, 1e-4);
  });
}

TEST(KernelsQcp, RejectsBadInput) {
  auto p = kt::random_positions(10, 1);
  std::vector<int32_t> idx = {0, 3, 10};
  std::vector<float> x(3), y(3), z(3);
  k::QcpReference ref{x.data(), y.data(), z.data(), 3, 1.0, 3.0, {0, 0, 0}};
  EXPECT_THROW(k::qcp_rmsd(k::QcpArgs{p.data(), 10, idx.data(), nullptr, ref, nullptr, nullptr}), std::out_of_range);
  // a known largest index stands for the scan: still checked against the frame
  EXPECT_THROW(k::qcp_rmsd(k::QcpArgs{p.data(), 10, idx.data(), nullptr, ref, nullptr, nullptr, nullptr, 10}), std::out_of_range);
  idx[2] = -4;
  EXPECT_THROW(k::qcp_rmsd(k::QcpArgs{p.data(), 10, idx.data(), nullptr, ref, nullptr, nullptr}), std::out_of_range);
  ref.n = 11;
  EXPECT_THROW(k::qcp_rmsd(k::QcpArgs{p.data(), 10, nullptr, nullptr, ref, nullptr, nullptr}), std::out_of_range);
  ref.n = 0;
  EXPECT_THROW(k::qcp_rmsd(k::QcpArgs{p.data(), 10, nullptr, nullptr, ref, nullptr, nullptr}), std::invalid_argument);
  ref.n = 3;
  ref.wsum = 0;
  EXPECT_THROW(k::qcp_rmsd(k::QcpArgs{p.data(), 10, nullptr, nullptr, ref, nullptr, nullptr}), std::invalid_argument);
}

TEST(KernelsQcp, PreparedReferenceSums) {
  auto p = kt::random_positions(37, 3);
  std::vector<int32_t> all(37);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = int32_t(i);
  std::vector<float> w(37);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = 1.0f + float(i % 4);
  Ref ref(p, all, &w);
  const k::QcpReference& r = ref.r;
  double gb = 0, W = 0, W2 = 0, xy = 0, best = 1e30;
  std::size_t shift = 0;
  for (std::size_t i = 0; i < 37; ++i) {
    const double x = ref.xyz[i], y = ref.xyz[ref.stride + i], z = ref.xyz[2 * ref.stride + i];
    gb += w[i] * (x * x + y * y + z * z), W += w[i], W2 += double(w[i]) * w[i], xy += w[i] * x * y;
    if (x * x + y * y + z * z < best) best = x * x + y * y + z * z, shift = i;
  }
  EXPECT_NEAR(r.gb, gb, 1e-9 * gb);
  EXPECT_DOUBLE_EQ(r.wsum, W);
  EXPECT_DOUBLE_EQ(r.w2sum, W2);
  EXPECT_NEAR(r.syy[1], xy, 1e-9 * gb);
  EXPECT_NEAR(r.syy[0] + r.syy[3] + r.syy[5], gb, 1e-9 * gb);
  EXPECT_EQ(r.shift, shift);
  EXPECT_EQ(r.n, 37u);
}

// The fast path sums float32 differences from the reference: a frame that
// is the reference moved (not rotated) keeps full accuracy down to RMSD 0,
// also over many atoms far from the origin. (Below a few 1e-6 Å even double
// sums cannot resolve the RMSD of 20k atoms: E0 - λ cancels 14 digits.)
TEST(KernelsQcp, NearZeroRmsdStaysAccurate) {
  kt::for_each_isa([](k::Isa) {
    const std::size_t n = 20000;
    auto ref = kt::random_positions(n, 77, 400.f, 460.f);
    std::vector<int32_t> all(n);
    for (std::size_t i = 0; i < n; ++i) all[i] = int32_t(i);
    Ref r(ref, all, nullptr);
    const double I[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1}, t[3] = {3.5, -1.25, 0.5};
    for (float noise : {0.0f, 1e-4f, 1e-3f, 1e-2f}) {
      auto mob = moved(ref, I, t, noise, 5);
      const double v = k::qcp_rmsd(k::QcpArgs{mob.data(), n, nullptr, nullptr, r.view(), nullptr, nullptr});
      EXPECT_NEAR(v, exact_rmsd(mob, r, nullptr, nullptr), 1e-5) << "noise " << noise;
    }
    // rotated far from the reference: the pass refines its rotation at a checkpoint (or falls back), still exact
    double R[9], rot[9];
    kt::random_rotation(19, R);
    for (float noise : {0.0f, 1e-3f, 0.3f}) {
      auto mob = moved(ref, R, t, noise, 6);
      const double v = k::qcp_rmsd(k::QcpArgs{mob.data(), n, nullptr, nullptr, r.view(), rot, nullptr});
      EXPECT_NEAR(v, exact_rmsd(mob, r, nullptr, nullptr), 2e-5) << "noise " << noise;
    }
  });
}

// 100k atoms at the density of water, frames rotated and jittered as in the
// analysis benchmark, masses and indices: within 2e-5 Å of the exact value.
TEST(KernelsQcp, LargeGroupsMatchDoublePrecision) {
  kt::for_each_isa([](k::Isa) {
    const std::size_t n = 100000;
    auto ref = kt::random_positions(n, 91, 0.f, 100.f);
    const Groups g(ref, 3);
    const auto &some = g.some;
    const auto &w = g.w, &ws = g.ws;
    const Ref &plain = g.plain, &weighted = g.weighted, &indexed = g.indexed;
    for (unsigned seed : {1u, 2u, 3u}) {
      double R[9], t[3] = {5, -5, 2};
      kt::random_rotation(seed, R);
      auto mob = moved(ref, R, t, 0.6f, seed);
      EXPECT_NEAR(k::qcp_rmsd(k::QcpArgs{mob.data(), n, nullptr, nullptr, plain.view(), nullptr, nullptr}), exact_rmsd(mob, plain, nullptr, nullptr), 2e-5);
      EXPECT_NEAR(k::qcp_rmsd(k::QcpArgs{mob.data(), n, nullptr, w.data(), weighted.view(), nullptr, nullptr}), exact_rmsd(mob, weighted, nullptr, &w), 2e-5);
      EXPECT_NEAR(k::qcp_rmsd(k::QcpArgs{mob.data(), n, some.data(), ws.data(), indexed.view(), nullptr, nullptr}), exact_rmsd(mob, indexed, &some, &ws), 2e-5);
    }
  });
}

// Frames in any orientation, any predicted rotation (none, a random one, the
// previous call's): the value is within 2e-5 Å of the exact one, and for
// selections of 2048 atoms and more (room for a checkpoint) one float pass
// suffices for RMSDs of 0.03 Å and more whatever was predicted (a poor
// prediction is replaced at the first checkpoint).
TEST(KernelsQcp, AnyOrientationAnyPrediction) {
  kt::for_each_isa([](k::Isa) {
    for (std::size_t n : {1000u, 3000u, 100000u}) {
      const float L = std::cbrt(float(n) / 0.1f);
      auto ref = kt::random_positions(n, 300 + n, 0.f, L);
      const Groups g(ref, 2);
      const auto &some = g.some;
      const auto &w = g.w, &ws = g.ws;
      const Ref &plain = g.plain, &weighted = g.weighted, &indexed = g.indexed;
      for (unsigned seed : {1u, 2u, 3u}) {
        for (float noise : {0.02f, 0.6f}) {
          double R[9], t[3] = {-30, 12, 5};
          kt::random_rotation(40 + seed, R);
          auto mob = moved(ref, R, t, noise, seed);
          const double exact[3] = {exact_rmsd(mob, plain, nullptr, nullptr), exact_rmsd(mob, weighted, nullptr, &w),
                                   exact_rmsd(mob, indexed, &some, &ws)};
          for (int prediction = 0; prediction < 3; ++prediction) {
            double q[5] = {1, 0, 0, 0, 0};
            if (prediction == 1) {  // a random, wrong one
              double Rq[9];
              kt::random_rotation(90 + seed, Rq);
              // any unit quaternion will do: take one from a call on a frame rotated by Rq
              auto other = moved(ref, Rq, t, 0.f, 1);
              k::QcpArgs b{other.data(), n, nullptr, nullptr, plain.view(), nullptr, nullptr, q};
              k::qcp_rmsd(b);
            }
            double qs[3][5];
            for (auto& v : qs) std::copy(q, q + 5, v);
            for (int v = 0; v < 3; ++v) {
              const k::QcpCounters before = k::qcp_counters();
              k::QcpArgs b{mob.data(), n, v == 2 ? some.data() : nullptr, v ? (v == 2 ? ws.data() : w.data()) : nullptr,
                           v == 0 ? plain.view() : v == 1 ? weighted.view() : indexed.view(), nullptr, nullptr, prediction ? qs[v] : nullptr};
              EXPECT_NEAR(k::qcp_rmsd(b), exact[v], 2e-5) << n << " atoms, noise " << noise << ", variant " << v << ", prediction " << prediction;
              const k::QcpCounters c = since(before);
              if (b.ref.n >= 2048) {  // room for a checkpoint
                EXPECT_EQ(c.float_passes, 1u) << n << " atoms, noise " << noise << ", variant " << v << ", prediction " << prediction;
                EXPECT_EQ(c.double_passes, 0u);
              }
            }
            if (prediction == 2) {
              // the previous call's rotation: this frame again takes one pass and needs no refinement
              const k::QcpCounters again = k::qcp_counters();
              for (int v = 0; v < 3; ++v) {
                k::QcpArgs b{mob.data(), n, v == 2 ? some.data() : nullptr, v ? (v == 2 ? ws.data() : w.data()) : nullptr,
                             v == 0 ? plain.view() : v == 1 ? weighted.view() : indexed.view(), nullptr, nullptr, qs[v]};
                EXPECT_NEAR(k::qcp_rmsd(b), exact[v], 2e-5);
              }
              const k::QcpCounters c2 = since(again);
              EXPECT_EQ(c2.float_passes, 3u) << n << " atoms, noise " << noise;
              EXPECT_EQ(c2.refinements, 0u) << n << " atoms, noise " << noise;
            }
          }
        }
      }
    }
  });
}

// A tumbling molecule, frame after frame (7.5° per frame about a wandering
// axis, ~1 Å RMSD), the predictor carried from frame to frame: every frame
// one float pass, within 2e-5 Å of the exact value; the predictor written
// back is the rotation of the frame.
TEST(KernelsQcp, PredictorFollowsATumblingTrajectory) {
  kt::for_each_isa([](k::Isa) {
    const std::size_t n = 50000;
    auto ref = kt::random_positions(n, 8, 0.f, 80.f);
    std::vector<int32_t> all(n);
    for (std::size_t i = 0; i < n; ++i) all[i] = int32_t(i);
    Ref r(ref, all, nullptr);
    std::mt19937 g(3);
    double O[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    double q[5] = {1, 0, 0, 0, 0};
    const k::QcpCounters before = k::qcp_counters();
    const int frames = 40;
    for (int f = 0; f < frames; ++f) {
      double D[9], next[9];
      small_rotation(g, 7.5, D);
      matmul(D, O, next);
      std::copy(next, next + 9, O);
      const double t[3] = {double(f), -2.0 * f, 0.5};
      auto mob = moved(ref, O, t, 0.6f, 100 + f);
      double rot[9], center[3];
      const double v = k::qcp_rmsd(k::QcpArgs{mob.data(), n, nullptr, nullptr, r.view(), rot, center, q});
      EXPECT_NEAR(v, exact_rmsd(mob, r, nullptr, nullptr), 2e-5) << "frame " << f;
      double P[9];
      rotation_of(q, P);
      for (int k2 = 0; k2 < 9; ++k2) EXPECT_NEAR(P[k2], rot[k2], 1e-12) << "frame " << f;
      // the rotation undoes the frame's orientation
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) EXPECT_NEAR(rot[3 * i + j], O[3 * j + i], 2e-3) << "frame " << f;
    }
    const k::QcpCounters c = since(before);
    EXPECT_EQ(c.float_passes, std::uint64_t(frames));
    EXPECT_EQ(c.double_passes, 0u);
  });
}

// The predictor is only a hint: NaN, zero, a quaternion that is not a unit
// one, a wrong rotation or a wrong RMSD give the same value (to rounding),
// and what is written back is a unit quaternion and the RMSD.
TEST(KernelsQcp, PredictorIsOnlyAHint) {
  const std::size_t n = 5000;
  auto ref = kt::random_positions(n, 12, 0.f, 40.f);
  std::vector<int32_t> all(n);
  for (std::size_t i = 0; i < n; ++i) all[i] = int32_t(i);
  Ref r(ref, all, nullptr);
  double R[9], t[3] = {1, 2, 3};
  kt::random_rotation(77, R);
  auto mob = moved(ref, R, t, 0.4f, 5);
  const double exact = exact_rmsd(mob, r, nullptr, nullptr);
  const double nan = std::nan("");
  const double hints[][5] = {{nan, 0, 0, 0, 1}, {0, 0, 0, 0, 0}, {2, 0, 0, 0, -1}, {0.5, 0.5, 0.5, 0.5, 100}, {0, 1, 0, 0, nan}, {1e300, 1e300, 0, 0, 1e-300}};
  for (const auto& h : hints) {
    double q[5] = {h[0], h[1], h[2], h[3], h[4]};
    EXPECT_NEAR(k::qcp_rmsd(k::QcpArgs{mob.data(), n, nullptr, nullptr, r.view(), nullptr, nullptr, q}), exact, 2e-5);
    EXPECT_NEAR(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3], 1.0, 1e-12);
    EXPECT_NEAR(q[4], exact, 2e-5);  // this frame's RMSD, the next frame's guess
  }
}

// Selections that end just before, at and after the checkpoints (2 x 1024,
// 2 x 4096, 2 x 16384 atoms), every instruction set, indexed and weighted:
// the segments add up exactly.
TEST(KernelsQcp, SegmentsAroundTheCheckpoints) {
  kt::for_each_isa([](k::Isa) {
    for (std::size_t n : {2047u, 2048u, 2049u, 8191u, 8192u, 8209u, 32767u, 32768u, 32790u}) {
      auto ref = kt::random_positions(n, 500 + n, 0.f, 60.f);
      std::vector<int32_t> idx(n);
      for (std::size_t i = 0; i < n; ++i) idx[i] = int32_t((i * 7919) % n);
      std::vector<float> w(n);
      for (std::size_t i = 0; i < n; ++i) w[i] = 1.0f + float(i % 7);
      Ref plain(ref, idx, nullptr), weighted(ref, idx, &w);
      double R[9], t[3] = {4, 4, -4};
      kt::random_rotation(600 + n, R);
      auto mob = moved(ref, R, t, 0.6f, 9);
      const k::QcpCounters before = k::qcp_counters();
      EXPECT_NEAR(k::qcp_rmsd(k::QcpArgs{mob.data(), n, idx.data(), nullptr, plain.view(), nullptr, nullptr}), exact_rmsd(mob, plain, &idx, nullptr), 2e-5) << n;
      EXPECT_NEAR(k::qcp_rmsd(k::QcpArgs{mob.data(), n, idx.data(), w.data(), weighted.view(), nullptr, nullptr}), exact_rmsd(mob, weighted, &idx, &w), 2e-5) << n;
      const k::QcpCounters c = since(before);
      if (n >= 2048) {
        EXPECT_EQ(c.float_passes, 2u) << n;  // below, a random orientation may take a second float pass
      }
      EXPECT_EQ(c.double_passes, 0u) << n;
    }
  });
}
