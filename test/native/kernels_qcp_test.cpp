// QCP RMSD kernel: against a naive double-precision fit, rotation recovery,
// weights, index arrays, every tail length, every instruction set, bad input.
#include <algorithm>
#include <cmath>
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
    // rotated far from the reference: near RMSD 0 the double path takes over, still exact
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
    std::vector<int32_t> all(n), some;
    for (std::size_t i = 0; i < n; ++i) all[i] = int32_t(i);
    for (std::size_t i = 0; i < n; i += 3) some.push_back(int32_t(i));
    std::vector<float> w(n), ws(some.size());
    for (std::size_t i = 0; i < n; ++i) w[i] = i % 3 ? 1.008f : 15.999f;
    for (std::size_t i = 0; i < some.size(); ++i) ws[i] = w[some[i]];
    Ref plain(ref, all, nullptr), weighted(ref, all, &w), indexed(ref, some, &ws);
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
