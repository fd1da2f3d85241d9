// Centre and radius of gyration kernel: against double-precision sums, far
// from the origin, with weights and indices, every tail length and ISA.
#include <cmath>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "com_rg.h"
#include "kernels_helpers.h"

namespace k = westream::kernels;

namespace {

struct Exact {
  double center[3], rg, wsum;
};

/** Centre, Rg and total weight in double precision, two passes (the reference). */
Exact exact(const std::vector<float>& p, const std::vector<float>& w, bool weighted) {
  const std::size_t n = w.size();
  Exact e{{0, 0, 0}, 0, 0};
  for (std::size_t i = 0; i < n; ++i) {
    const double wi = weighted ? w[i] : 1.0;
    e.wsum += wi;
    for (int d = 0; d < 3; ++d) e.center[d] += wi * p[3 * i + d];
  }
  for (double& v : e.center) v /= e.wsum;
  double s = 0;
  for (std::size_t i = 0; i < n; ++i) {
    double r2 = 0;
    for (int d = 0; d < 3; ++d) r2 += (p[3 * i + d] - e.center[d]) * (p[3 * i + d] - e.center[d]);
    s += (weighted ? w[i] : 1.0) * r2;
  }
  e.rg = std::sqrt(s / e.wsum);
  return e;
}

}  // namespace

TEST(KernelsComRg, MatchesDoublePrecisionSums) {
  kt::for_each_isa([](k::Isa) {
    for (std::size_t n : {1u, 2u, 15u, 16u, 17u, 100u, 4099u}) {
      // a cluster far from the origin: the one-pass sums must not cancel
      auto p = kt::random_positions(n, 10 + n, 480.f, 520.f);
      std::vector<float> w(n);
      for (std::size_t i = 0; i < n; ++i) w[i] = 1.008f + float(i % 7) * 2.5f;
      for (bool weighted : {false, true}) {
        const Exact e = exact(p, w, weighted);
        k::CenterResult r = k::center_rg(k::CenterArgs{p.data(), n, nullptr, n, weighted ? w.data() : nullptr});
        for (int d = 0; d < 3; ++d) EXPECT_NEAR(r.center[d], e.center[d], 1e-4) << n;
        EXPECT_NEAR(r.rg, e.rg, 1e-4) << n << (weighted ? " weighted" : "");
        EXPECT_NEAR(r.wsum, e.wsum, 1e-6 * e.wsum);
      }
    }
  });
}

TEST(KernelsComRg, IndexedGroups) {
  kt::for_each_isa([](k::Isa) {
    auto p = kt::random_positions(1000, 3);
    std::vector<int32_t> idx;
    for (int32_t i = 999; i >= 0; i -= 7) idx.push_back(i);
    k::CenterResult r = k::center_rg(k::CenterArgs{p.data(), 1000, idx.data(), idx.size(), nullptr});
    double c[3] = {0, 0, 0};
    for (int32_t i : idx)
      for (int d = 0; d < 3; ++d) c[d] += p[3 * i + d] / idx.size();
    for (int d = 0; d < 3; ++d) EXPECT_NEAR(r.center[d], c[d], 1e-4);
  });
}

TEST(KernelsComRg, RejectsBadInput) {
  auto p = kt::random_positions(5, 1);
  std::vector<int32_t> idx = {1, 5};
  EXPECT_THROW(k::center_rg(k::CenterArgs{p.data(), 5, idx.data(), 2, nullptr}), std::out_of_range);
  EXPECT_THROW(k::center_rg(k::CenterArgs{p.data(), 5, nullptr, 6, nullptr}), std::out_of_range);
  EXPECT_THROW(k::center_rg(k::CenterArgs{p.data(), 5, nullptr, 0, nullptr}), std::invalid_argument);
  std::vector<float> zero(5, 0.0f);
  EXPECT_THROW(k::center_rg(k::CenterArgs{p.data(), 5, nullptr, 5, zero.data()}), std::invalid_argument);
}

// 100k atoms (many float blocks flushed into double) far from the origin,
// with water-like masses: within 1e-4 Å of double-precision sums.
TEST(KernelsComRg, LargeGroupsMatchDoublePrecision) {
  kt::for_each_isa([](k::Isa) {
    const std::size_t n = 100003;
    auto p = kt::random_positions(n, 8, 900.f, 1000.f);
    std::vector<float> w(n);
    for (std::size_t i = 0; i < n; ++i) w[i] = i % 3 ? 1.008f : 15.999f;
    for (bool weighted : {false, true}) {
      const Exact e = exact(p, w, weighted);
      k::CenterResult r = k::center_rg(k::CenterArgs{p.data(), n, nullptr, n, weighted ? w.data() : nullptr});
      for (int d = 0; d < 3; ++d) EXPECT_NEAR(r.center[d], e.center[d], 1e-4);
      EXPECT_NEAR(r.rg, e.rg, 1e-4) << (weighted ? "weighted" : "");
    }
  });
}
