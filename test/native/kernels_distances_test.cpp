// Distance kernels: minimum image against a brute-force search over lattice
// images (orthorhombic, triclinic, none), every instruction set and tail
// length, counts and minimum, within-masks, pair lists, bad input.
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "distances.h"
#include "kernels_helpers.h"

namespace k = westream::kernels;

namespace {

/** Shortest image of b - a over lattice translations -4..4 in each direction (double). */
double brute(const float* a, const float* b, const float* box) {
  const double d0[3] = {double(b[0]) - a[0], double(b[1]) - a[1], double(b[2]) - a[2]};
  if (!box) return std::sqrt(d0[0] * d0[0] + d0[1] * d0[1] + d0[2] * d0[2]);
  double best = std::numeric_limits<double>::infinity();
  for (int i = -4; i <= 4; ++i)
    for (int j = -4; j <= 4; ++j)
      for (int l = -4; l <= 4; ++l) {
        const double x = d0[0] + i * box[0] + j * box[1] + l * box[3];
        const double y = d0[1] + j * box[2] + l * box[4];
        const double z = d0[2] + l * box[5];
        best = std::min(best, std::sqrt(x * x + y * y + z * z));
      }
  return best;
}

const float ortho[6] = {23.0f, 0, 31.0f, 0, 0, 27.0f};
// rhombic dodecahedron (xy-square), as GROMACS writes it
const float dodeca[6] = {30.0f, 0.0f, 30.0f, 15.0f, 15.0f, 21.2132f};
const float skewed[6] = {25.0f, 7.0f, 24.0f, -6.0f, 5.0f, 22.0f};

}  // namespace

TEST(KernelsDistances, DistanceArrayIsTheMinimumImage) {
  kt::for_each_isa([](k::Isa) {
    for (const float* box : {static_cast<const float*>(nullptr), ortho, dodeca, skewed}) {
      for (std::size_t n : {1u, 5u, 19u, 33u}) {
        // atoms spread over a few box lengths, as unwrapped trajectories have them
        auto pa = kt::random_positions(n, 3 + n, -30.f, 50.f);
        auto pb = kt::random_positions(n + 3, 4 + n, -30.f, 50.f);
        std::vector<float> out(n * (n + 3));
        k::distance_array(k::Group{pa.data(), n, nullptr, n}, k::Group{pb.data(), n + 3, nullptr, n + 3}, box, out.data());
        for (std::size_t i = 0; i < n; ++i)
          for (std::size_t j = 0; j < n + 3; ++j) {
            const double want = brute(&pa[3 * i], &pb[3 * j], box);
            ASSERT_NEAR(out[i * (n + 3) + j], want, 1e-4 + 1e-5 * want) << "pair " << i << "," << j;
          }
      }
    }
  });
}

TEST(KernelsDistances, StatsCountsAndMinimumWithIndices) {
  kt::for_each_isa([](k::Isa) {
    const std::size_t natoms = 500;
    auto p = kt::random_positions(natoms, 77, 0.f, 30.f);
    std::vector<int32_t> a = {3, 99, 250}, b;
    for (int32_t i = 0; i < int32_t(natoms); i += 3) b.push_back(i);
    for (const float* box : {static_cast<const float*>(nullptr), ortho, dodeca}) {
      for (double cutoff : {0.0, 4.0, 9.5}) {
        std::size_t want = 0;
        double wmin = std::numeric_limits<double>::infinity();
        for (int32_t i : a)
          for (int32_t j : b) {
            const double d = brute(&p[3 * i], &p[3 * j], box);
            want += d <= cutoff;
            wmin = std::min(wmin, d);
          }
        k::DistanceStats s = k::distance_stats(k::Group{p.data(), natoms, a.data(), a.size()}, k::Group{p.data(), natoms, b.data(), b.size()}, box, cutoff);
        EXPECT_EQ(s.within, want) << cutoff;  // atom 3 and 99 are in b: self pairs at 0 count
        EXPECT_NEAR(s.min, wmin, 1e-9);
      }
    }
  });
}

TEST(KernelsDistances, WithinMaskAndPairs) {
  kt::for_each_isa([](k::Isa) {
    const std::size_t natoms = 300;
    auto p = kt::random_positions(natoms, 5, 0.f, 25.f);
    std::vector<int32_t> ref = {0, 1, 2}, cand;
    for (int32_t i = 3; i < int32_t(natoms); ++i) cand.push_back(i);
    std::vector<uint8_t> mask(natoms, 0);
    k::within_mask(k::Group{p.data(), natoms, ref.data(), ref.size()}, k::Group{p.data(), natoms, cand.data(), cand.size()}, dodeca, 6.0, mask.data());
    for (int32_t j : cand) {
      bool near = false;
      for (int32_t i : ref) near = near || brute(&p[3 * i], &p[3 * j], dodeca) <= 6.0;
      EXPECT_EQ(mask[j], near ? 1 : 0) << j;
    }
    for (int32_t i : ref) EXPECT_EQ(mask[i], 0);
    std::vector<int32_t> pairs = {0, 299, 5, 6, 17, 17};
    std::vector<double> d(3);
    k::pair_distances(p.data(), natoms, pairs.data(), 3, skewed, d.data());
    for (int q = 0; q < 3; ++q) EXPECT_NEAR(d[q], brute(&p[3 * pairs[2 * q]], &p[3 * pairs[2 * q + 1]], skewed), 1e-9);
  });
}

TEST(KernelsDistances, RejectsBadInput) {
  auto p = kt::random_positions(4, 1);
  std::vector<int32_t> bad = {0, 4};
  std::vector<float> out(8);
  EXPECT_THROW(k::distance_array(k::Group{p.data(), 4, bad.data(), 2}, k::Group{p.data(), 4, nullptr, 4}, nullptr, out.data()), std::out_of_range);
  EXPECT_THROW(k::distance_array(k::Group{p.data(), 4, nullptr, 5}, k::Group{p.data(), 4, nullptr, 4}, nullptr, out.data()), std::out_of_range);
  const float flat[6] = {10, 0, -1, 0, 0, 10};
  EXPECT_THROW(k::distance_stats(k::Group{p.data(), 4, nullptr, 2}, k::Group{p.data(), 4, nullptr, 2}, flat, 1.0), std::invalid_argument);
  std::vector<int32_t> pairs = {0, 1, 2, 7};
  std::vector<double> d(2);
  EXPECT_THROW(k::pair_distances(p.data(), 4, pairs.data(), 2, nullptr, d.data()), std::out_of_range);
  // an all-zero cell means "no box"
  const float none[6] = {0, 0, 0, 0, 0, 0};
  k::DistanceStats s = k::distance_stats(k::Group{p.data(), 4, nullptr, 1}, k::Group{p.data(), 4, nullptr, 4}, none, 0.5);
  EXPECT_EQ(s.within, 1u);
}

TEST(KernelsDistances, WithinMaskCellListMatchesEveryPair) {
  // > 2^20 pairs: the cell-list path (no box, orthorhombic); positions outside the box and
  // reference atoms outside the candidates' extent included.
  const std::size_t natoms = 3000;
  auto p = kt::random_positions(natoms, 91, -20.f, 70.f);
  std::vector<int32_t> ref, cand;
  for (int32_t i = 0; i < int32_t(natoms); ++i) (i % 7 == 0 ? ref : cand).push_back(i);
  for (int d = 0; d < 3; ++d) p[3 * ref[0] + d] = -23.0f;  // just outside the candidates
  const float cube[6] = {45.0f, 0, 45.0f, 0, 0, 45.0f};
  for (const float* box : {static_cast<const float*>(nullptr), cube}) {
    for (double cutoff : {3.5, 9.0}) {
      std::vector<uint8_t> mask(natoms, 0);
      k::within_mask(k::Group{p.data(), natoms, ref.data(), ref.size()}, k::Group{p.data(), natoms, cand.data(), cand.size()}, box, cutoff, mask.data());
      std::size_t hits = 0;
      // reference: every pair, orthorhombic minimum image by rounding
      const auto dist = [&](int32_t i, int32_t j) {
        double s2 = 0;
        for (int d = 0; d < 3; ++d) {
          double v = double(p[3 * j + d]) - p[3 * i + d];
          if (box) v -= 45.0 * std::nearbyint(v / 45.0);
          s2 += v * v;
        }
        return std::sqrt(s2);
      };
      for (int32_t j : cand) {
        bool near = false;
        for (int32_t i : ref) {
          if (dist(i, j) <= cutoff) {
            near = true;
            break;
          }
        }
        ASSERT_EQ(mask[j], near ? 1 : 0) << "atom " << j << " cutoff " << cutoff << (box ? " box" : " no box");
        hits += near;
      }
      EXPECT_GT(hits, 0u);
      for (int32_t i : ref) EXPECT_EQ(mask[i], 0);
    }
  }
}

TEST(KernelsDistances, WithinMaskCellListTriclinicMatchesEveryPair) {
  // > 2^20 pairs in triclinic boxes: the fractional-coordinate cell list
  // (cells >= cutoff across in every perpendicular width) against every
  // pair, computed by within_mask itself in chunks below 2^20 pairs (the
  // every-pair path, checked against brute() in WithinMaskAndPairs).
  const std::size_t natoms = 3000;
  auto p = kt::random_positions(natoms, 17, -20.f, 70.f);
  std::vector<int32_t> ref, cand;
  for (int32_t i = 0; i < int32_t(natoms); ++i) (i % 7 == 3 ? ref : cand).push_back(i);
  const float dodeca90[6] = {90.0f, 0.0f, 90.0f, 45.0f, 45.0f, 63.6396f};  // GROMACS rhombic dodecahedron
  const float skew90[6] = {90.0f, 24.0f, 86.0f, -20.0f, 18.0f, 80.0f};
  const k::Group cg{p.data(), natoms, cand.data(), cand.size()};
  for (const float* box : {dodeca90, skew90}) {
    for (double cutoff : {3.5, 9.0, 20.0}) {  // 20: three cells across the dodecahedron's height
      std::vector<uint8_t> mask(natoms, 0), want(natoms, 0);
      k::within_mask(k::Group{p.data(), natoms, ref.data(), ref.size()}, cg, box, cutoff, mask.data());
      for (std::size_t r0 = 0; r0 < ref.size(); r0 += 100)
        k::within_mask(k::Group{p.data(), natoms, ref.data() + r0, std::min<std::size_t>(100, ref.size() - r0)}, cg, box, cutoff,
                       want.data());
      std::size_t hits = 0;
      for (int32_t j : cand) {
        ASSERT_EQ(mask[j], want[j]) << "atom " << j << " cutoff " << cutoff << " box " << box[1];
        hits += want[j];
      }
      EXPECT_GT(hits, 0u);
      if (cutoff < 10) EXPECT_LT(hits, cand.size());
      for (int32_t i : ref) EXPECT_EQ(mask[i], 0);
    }
  }
}
