#include "distances.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "bounds.h"
#include "pbc.h"
#include "simd.h"

namespace westream::kernels {

namespace {

void check_group(const Group& g, const char* who) {
  if (g.n > 0 && !g.positions) throw std::invalid_argument(std::string(who) + ": null positions");
  if (g.index) check_indices(g.index, g.n, g.natoms, who);
  else if (g.n > g.natoms) throw std::out_of_range(std::string(who) + ": the group has more atoms than the frame");
}

/** Structure-of-arrays copy of a group (contiguous x, y, z) for the inner loops. */
template <class T>
struct Soa {
  std::vector<T> x, y, z;
  explicit Soa(const Group& g) : x(g.n), y(g.n), z(g.n) {
    for (std::size_t i = 0; i < g.n; ++i) {
      const std::size_t k = g.index ? static_cast<std::size_t>(g.index[i]) : i;
      x[i] = T(g.positions[3 * k]), y[i] = T(g.positions[3 * k + 1]), z[i] = T(g.positions[3 * k + 2]);
    }
  }
};

struct ArrayArgs {
  const Group* a;
  const Soa<float>* b;
  const Box* box;
  float* out;
};

template <int L>
WESTREAM_INLINE int array_body(const ArrayArgs& args) {
  (void)L;
  const Group& a = *args.a;
  const std::size_t nb = args.b->x.size();
  const float* __restrict bx = args.b->x.data();
  const float* __restrict by = args.b->y.data();
  const float* __restrict bz = args.b->z.data();
  const Box& box = *args.box;
  const float lx = float(box.ax), ly = float(box.by), lz = float(box.cz);
  const float ilx = float(box.inv_ax), ily = float(box.inv_by), ilz = float(box.inv_cz);
  const float tri[9] = {float(box.ax), float(box.bx), float(box.by), float(box.cx), float(box.cy), float(box.cz),
                        float(box.inv_ax), float(box.inv_by), float(box.inv_cz)};
  for (std::size_t i = 0; i < a.n; ++i) {
    const std::size_t k = a.index ? static_cast<std::size_t>(a.index[i]) : i;
    const float x = a.positions[3 * k], y = a.positions[3 * k + 1], z = a.positions[3 * k + 2];
    float* __restrict row = args.out + i * nb;
    switch (box.kind) {
      case BoxKind::None:
        for (std::size_t j = 0; j < nb; ++j) {
          const float dx = bx[j] - x, dy = by[j] - y, dz = bz[j] - z;
          row[j] = std::sqrt(dx * dx + dy * dy + dz * dz);
        }
        break;
      case BoxKind::Orthorhombic:
        for (std::size_t j = 0; j < nb; ++j)
          row[j] = std::sqrt(min_image_sq_ortho(bx[j] - x, by[j] - y, bz[j] - z, lx, ly, lz, ilx, ily, ilz));
        break;
      case BoxKind::Triclinic:
        for (std::size_t j = 0; j < nb; ++j) row[j] = std::sqrt(min_image_sq_triclinic(bx[j] - x, by[j] - y, bz[j] - z, tri));
        break;
    }
  }
  return 0;
}

WESTREAM_DISPATCH(int, array_dispatch, ArrayArgs, array_body)

// Double precision variants: counts at a cutoff must not depend on float rounding.
struct StatsArgs {
  const Group* a;
  const Soa<double>* b;
  const Box* box;
  double cutoff;
  DistanceStats* out;
  uint8_t* mask;  // within_mask mode when set
  const Group* bgroup;
};

template <int L>
WESTREAM_INLINE int stats_body(const StatsArgs& args) {
  (void)L;
  const Group& a = *args.a;
  const std::size_t nb = args.b->x.size();
  const double* __restrict bx = args.b->x.data();
  const double* __restrict by = args.b->y.data();
  const double* __restrict bz = args.b->z.data();
  const Box& box = *args.box;
  const double tri[9] = {box.ax, box.bx, box.by, box.cx, box.cy, box.cz, box.inv_ax, box.inv_by, box.inv_cz};
  const double c2 = args.cutoff * args.cutoff;
  std::vector<double> d2(nb);
  double* __restrict d = d2.data();
  double best = std::numeric_limits<double>::infinity();
  std::size_t within = 0;
  for (std::size_t i = 0; i < a.n; ++i) {
    const std::size_t k = a.index ? static_cast<std::size_t>(a.index[i]) : i;
    const double x = a.positions[3 * k], y = a.positions[3 * k + 1], z = a.positions[3 * k + 2];
    switch (box.kind) {
      case BoxKind::None:
        for (std::size_t j = 0; j < nb; ++j) {
          const double dx = bx[j] - x, dy = by[j] - y, dz = bz[j] - z;
          d[j] = dx * dx + dy * dy + dz * dz;
        }
        break;
      case BoxKind::Orthorhombic:
        for (std::size_t j = 0; j < nb; ++j)
          d[j] = min_image_sq_ortho(bx[j] - x, by[j] - y, bz[j] - z, box.ax, box.by, box.cz, box.inv_ax, box.inv_by, box.inv_cz);
        break;
      case BoxKind::Triclinic:
        for (std::size_t j = 0; j < nb; ++j) d[j] = min_image_sq_triclinic(bx[j] - x, by[j] - y, bz[j] - z, tri);
        break;
    }
    if (args.mask) {
      const Group& g = *args.bgroup;
      for (std::size_t j = 0; j < nb; ++j)
        if (d[j] <= c2) args.mask[g.index ? static_cast<std::size_t>(g.index[j]) : j] = 1;
    } else {
      std::size_t cnt = 0;
      double m = best;
      for (std::size_t j = 0; j < nb; ++j) {
        cnt += d[j] <= c2 ? 1 : 0;
        m = d[j] < m ? d[j] : m;
      }
      within += cnt;
      best = m;
    }
  }
  if (args.out) {
    args.out->min = std::sqrt(best);
    args.out->within = within;
  }
  return 0;
}

WESTREAM_DISPATCH(int, stats_dispatch, StatsArgs, stats_body)

}  // namespace

void distance_array(const Group& a, const Group& b, const float* box, float* out) {
  check_group(a, "distance_array");
  check_group(b, "distance_array");
  if (a.n == 0 || b.n == 0) return;
  if (!out) throw std::invalid_argument("distance_array: null output");
  const Box bx(box);
  const Soa<float> soa(b);
  array_dispatch(ArrayArgs{&a, &soa, &bx, out});
}

DistanceStats distance_stats(const Group& a, const Group& b, const float* box, double cutoff) {
  check_group(a, "distance_stats");
  check_group(b, "distance_stats");
  DistanceStats r{std::numeric_limits<double>::infinity(), 0};
  if (a.n == 0 || b.n == 0) return r;
  const Box bx(box);
  const Soa<double> soa(b);
  stats_dispatch(StatsArgs{&a, &soa, &bx, cutoff, &r, nullptr, &b});
  return r;
}

namespace {

/**
 * within_mask with a cell list: candidates binned into cells at least
 * `cutoff` wide, each reference atom checks the 27 cells around its own.
 * Periodic boxes, orthorhombic or triclinic, are binned in fractional
 * coordinates with each cell's perpendicular widths >= cutoff, so every atom
 * within cutoff (minimum image) lies in a neighbouring cell. Returns false
 * when the geometry does not suit a grid (fewer than three cells across a
 * periodic box, or too sparse); the caller then compares every pair.
 */
bool within_mask_grid(const Group& ref, const Group& cand, const Box& box, double cutoff, uint8_t* mask) {
  if (!(cutoff > 0)) return false;
  const auto at = [](const Group& g, std::size_t i, int d) {
    const std::size_t k = g.index ? static_cast<std::size_t>(g.index[i]) : i;
    return double(g.positions[3 * k + d]);
  };
  const bool periodic = box.kind != BoxKind::None;
  // Periodic: the perpendicular widths of the cell (a, b, c lower-triangular):
  // V / |b x c|, V / |a x c|, V / |a x b|.
  const double bxc = std::sqrt(box.by * box.cz * box.by * box.cz + box.bx * box.cz * box.bx * box.cz +
                               (box.bx * box.cy - box.by * box.cx) * (box.bx * box.cy - box.by * box.cx));
  const double span[3] = {periodic ? box.ax * box.by * box.cz / bxc : 0, periodic ? box.by * box.cz / std::hypot(box.cy, box.cz) : 0,
                          box.cz};
  double lo[3] = {0, 0, 0}, hi[3] = {1, 1, 1};
  int n[3];
  for (int d = 0; d < 3; ++d) {
    double extent;
    if (periodic) {
      extent = span[d];
    } else {
      lo[d] = hi[d] = at(cand, 0, d);
      for (std::size_t i = 0; i < cand.n; ++i) lo[d] = std::min(lo[d], at(cand, i, d)), hi[d] = std::max(hi[d], at(cand, i, d));
      extent = std::max(hi[d] - lo[d], cutoff);
    }
    const double cells = std::floor(extent / cutoff);
    if (!std::isfinite(cells)) return false;
    n[d] = static_cast<int>(std::min(cells, 256.0));
    if (periodic && n[d] < 3) return false;  // neighbours would wrap onto themselves
    if (n[d] < 1) n[d] = 1;
  }
  const std::size_t ncells = std::size_t(n[0]) * n[1] * n[2];
  if (ncells > 4 * (cand.n + 1024)) return false;  // too sparse to pay off
  const double width[3] = {(hi[0] - lo[0]) / n[0], (hi[1] - lo[1]) / n[1], (hi[2] - lo[2]) / n[2]};
  const auto clamp = [&](double u, int d) {
    const int c = width[d] > 0 ? static_cast<int>(u / width[d]) : 0;
    return c < 0 ? 0 : c >= n[d] ? n[d] - 1 : c;
  };
  // Cell of a position: fractional coordinates wrapped into [0, 1) for a box,
  // Cartesian offsets from the candidates' lower corner without one.
  const auto cell_of = [&](double x, double y, double z, int c[3]) {
    if (periodic) {
      double s[3];
      s[2] = z * box.inv_cz;
      s[1] = (y - s[2] * box.cy) * box.inv_by;
      s[0] = (x - s[1] * box.bx - s[2] * box.cx) * box.inv_ax;
      for (int d = 0; d < 3; ++d) c[d] = clamp(s[d] - std::floor(s[d]), d);
    } else {
      c[0] = clamp(x - lo[0], 0), c[1] = clamp(y - lo[1], 1), c[2] = clamp(z - lo[2], 2);
    }
  };
  // counting sort of the candidates by cell
  std::vector<uint32_t> cell(cand.n), start(ncells + 1, 0), order(cand.n);
  for (std::size_t i = 0; i < cand.n; ++i) {
    int c3[3];
    cell_of(at(cand, i, 0), at(cand, i, 1), at(cand, i, 2), c3);
    const std::size_t c = (std::size_t(c3[2]) * n[1] + c3[1]) * n[0] + c3[0];
    cell[i] = static_cast<uint32_t>(c);
    start[c + 1]++;
  }
  for (std::size_t c = 0; c < ncells; ++c) start[c + 1] += start[c];
  {
    std::vector<uint32_t> fill(start.begin(), start.end() - 1);
    for (std::size_t i = 0; i < cand.n; ++i) order[fill[cell[i]]++] = static_cast<uint32_t>(i);
  }
  const double c2 = cutoff * cutoff;
  const double tri[9] = {box.ax, box.bx, box.by, box.cx, box.cy, box.cz, box.inv_ax, box.inv_by, box.inv_cz};
  for (std::size_t r = 0; r < ref.n; ++r) {
    const double x = at(ref, r, 0), y = at(ref, r, 1), z = at(ref, r, 2);
    int c3[3];
    cell_of(x, y, z, c3);
    // without a box, a reference atom outside the candidates' extent still
    // only reaches the border cells (clamped), which is all it can reach
    for (int dz = -1; dz <= 1; ++dz) {
      int iz = c3[2] + dz;
      if (periodic) iz = (iz + n[2]) % n[2];
      else if (iz < 0 || iz >= n[2]) continue;
      for (int dy = -1; dy <= 1; ++dy) {
        int iy = c3[1] + dy;
        if (periodic) iy = (iy + n[1]) % n[1];
        else if (iy < 0 || iy >= n[1]) continue;
        for (int dx = -1; dx <= 1; ++dx) {
          int ix = c3[0] + dx;
          if (periodic) ix = (ix + n[0]) % n[0];
          else if (ix < 0 || ix >= n[0]) continue;
          const std::size_t c = (std::size_t(iz) * n[1] + iy) * n[0] + ix;
          for (uint32_t k = start[c]; k < start[c + 1]; ++k) {
            const std::size_t j = order[k];
            const std::size_t atom = cand.index ? static_cast<std::size_t>(cand.index[j]) : j;
            if (mask[atom]) continue;
            const double ddx = at(cand, j, 0) - x, ddy = at(cand, j, 1) - y, ddz = at(cand, j, 2) - z;
            double d2;
            switch (box.kind) {
              case BoxKind::Orthorhombic:
                d2 = min_image_sq_ortho(ddx, ddy, ddz, box.ax, box.by, box.cz, box.inv_ax, box.inv_by, box.inv_cz);
                break;
              case BoxKind::Triclinic:
                d2 = min_image_sq_triclinic(ddx, ddy, ddz, tri);
                break;
              default:
                d2 = ddx * ddx + ddy * ddy + ddz * ddz;
            }
            if (d2 <= c2) mask[atom] = 1;
          }
        }
      }
    }
  }
  return true;
}

}  // namespace

void within_mask(const Group& ref, const Group& candidates, const float* box, double cutoff, uint8_t* mask) {
  check_group(ref, "within_mask");
  check_group(candidates, "within_mask");
  if (ref.n == 0 || candidates.n == 0) return;
  if (!mask) throw std::invalid_argument("within_mask: null mask");
  const Box bx(box);
  // Small problems: every pair (vectorised). Large ones: a cell list.
  if (ref.n * candidates.n > (std::size_t(1) << 20) && within_mask_grid(ref, candidates, bx, cutoff, mask)) return;
  const Soa<double> soa(candidates);
  stats_dispatch(StatsArgs{&ref, &soa, &bx, cutoff, nullptr, mask, &candidates});
}

void pair_distances(const float* positions, std::size_t natoms, const int32_t* pairs, std::size_t npairs, const float* box,
                    double* out) {
  if (npairs == 0) return;
  if (!positions || !pairs || !out) throw std::invalid_argument("pair_distances: null array");
  check_indices(pairs, 2 * npairs, natoms, "pair_distances");
  const Box b(box);
  for (std::size_t k = 0; k < npairs; ++k) {
    const std::size_t i = static_cast<std::size_t>(pairs[2 * k]), j = static_cast<std::size_t>(pairs[2 * k + 1]);
    double dx = double(positions[3 * j]) - positions[3 * i];
    double dy = double(positions[3 * j + 1]) - positions[3 * i + 1];
    double dz = double(positions[3 * j + 2]) - positions[3 * i + 2];
    min_image_vector(dx, dy, dz, b);
    out[k] = std::sqrt(dx * dx + dy * dy + dz * dz);
  }
}

}  // namespace westream::kernels
