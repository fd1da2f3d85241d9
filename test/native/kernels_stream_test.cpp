// The benchmark's read floor: every float of both arrays summed once, any
// lengths and proportions, every instruction set.
#include <vector>

#include <gtest/gtest.h>

#include "kernels_helpers.h"
#include "stream.h"

namespace k = westream::kernels;

TEST(KernelsStream, SumsEveryFloatOnce) {
  kt::for_each_isa([](k::Isa) {
    for (std::size_t na : {0u, 1u, 47u, 48u, 49u, 3000u, 30003u}) {
      for (std::size_t nb : {0u, 5u, 1000u, 10001u, 30003u}) {
        std::vector<float> a(na), b(nb);
        double expect = 0;
        for (std::size_t i = 0; i < na; ++i) expect += a[i] = float(i % 7) - 2.f;
        for (std::size_t i = 0; i < nb; ++i) expect += b[i] = float(i % 5) + 0.5f;
        EXPECT_DOUBLE_EQ(k::stream_sum(a.data(), na, nb ? b.data() : nullptr, nb), expect) << na << " + " << nb;
      }
    }
  });
}

TEST(KernelsStream, PartsSideBySide) {
  kt::for_each_isa([](k::Isa) {
    for (std::size_t n : {1u, 16u, 1000u, 100003u}) {
      std::vector<float> a(3 * n), b(3 * n + 3);
      double expect = 0;
      for (std::size_t i = 0; i < a.size(); ++i) expect += a[i] = float(i % 3);
      for (std::size_t i = 0; i < b.size(); ++i) expect += b[i] = float(i % 4) - 1.f;
      EXPECT_DOUBLE_EQ(k::stream_sum(a.data(), a.size(), b.data(), b.size(), 3), expect) << n;
      EXPECT_DOUBLE_EQ(k::stream_sum(a.data(), a.size(), b.data(), b.size(), 1), expect) << n;
    }
  });
}
