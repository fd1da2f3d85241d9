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

/** A reference prepared as the JS side does it (float32 centred arrays, sums from the floats). */
struct Ref {
  std::vector<float> x, y, z;
  double gb = 0, wsum = 0, rsum[3] = {0, 0, 0};
  Ref(const std::vector<float>& p, const std::vector<int32_t>& idx, const std::vector<float>* w) {
    const std::size_t n = idx.size();
    double c[3] = {0, 0, 0}, W = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double wi = w ? (*w)[i] : 1.0;
      W += wi;
      for (int d = 0; d < 3; ++d) c[d] += wi * p[3 * idx[i] + d];
    }
    for (double& v : c) v /= W;
    x.resize(n), y.resize(n), z.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      x[i] = float(p[3 * idx[i]] - c[0]), y[i] = float(p[3 * idx[i] + 1] - c[1]), z[i] = float(p[3 * idx[i] + 2] - c[2]);
      const double wi = w ? (*w)[i] : 1.0;
      gb += wi * (double(x[i]) * x[i] + double(y[i]) * y[i] + double(z[i]) * z[i]);
      wsum += wi;
      rsum[0] += wi * x[i], rsum[1] += wi * y[i], rsum[2] += wi * z[i];
    }
  }
  k::QcpReference view() const { return k::QcpReference{x.data(), y.data(), z.data(), x.size(), gb, wsum, {rsum[0], rsum[1], rsum[2]}}; }
};

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
