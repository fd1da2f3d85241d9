// Small, independent writers of every trajectory format, for the native
// decoder tests, the fuzzers' seed corpora and nothing else. The XTC writer
// follows libxdrf's xdr3dfcoord encoder (runs, water swap, smallidx moves).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "xdr.h"

namespace wsfmt {

using Bytes = std::vector<uint8_t>;

inline void be32(Bytes& b, uint32_t v) {
  b.push_back(uint8_t(v >> 24));
  b.push_back(uint8_t(v >> 16));
  b.push_back(uint8_t(v >> 8));
  b.push_back(uint8_t(v));
}
inline void be64(Bytes& b, uint64_t v) {
  be32(b, uint32_t(v >> 32));
  be32(b, uint32_t(v));
}
inline void bef(Bytes& b, float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  be32(b, u);
}
inline void bed(Bytes& b, double d) {
  uint64_t u;
  std::memcpy(&u, &d, 8);
  be64(b, u);
}
inline void put32(Bytes& b, uint32_t v, bool little) {
  if (little) {
    for (int k = 0; k < 4; k++) b.push_back(uint8_t(v >> (8 * k)));
  } else {
    be32(b, v);
  }
}
inline void putf(Bytes& b, float f, bool little) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  put32(b, u, little);
}
inline void putd(Bytes& b, double d, bool little) {
  uint64_t u;
  std::memcpy(&u, &d, 8);
  if (little) {
    for (int k = 0; k < 8; k++) b.push_back(uint8_t(u >> (8 * k)));
  } else {
    be64(b, u);
  }
}

// A test system: n atoms in water-like clusters of three (so the XTC
// encoder uses runs and the water swap), positions in nm inside `box`.
struct System {
  int n;
  float box;  // cubic, nm
  std::vector<float> x;  // nm
};

inline System make_system(int n, float box, unsigned seed, int frame = 0) {
  System s{n, box, std::vector<float>(3 * size_t(n))};
  srand(seed);
  for (int i = 0; i < n; i++) {
    if (i % 3 == 0) {
      for (int k = 0; k < 3; k++) s.x[3 * i + k] = box * float(rand()) / float(RAND_MAX) + 0.001f * frame;
    } else {
      for (int k = 0; k < 3; k++) s.x[3 * i + k] = s.x[3 * (i - i % 3) + k] + 0.1f * (float(rand()) / float(RAND_MAX) - 0.5f);
    }
  }
  return s;
}

// ---- XTC ---------------------------------------------------------------------

struct BitWriter {
  Bytes out;
  uint64_t acc = 0;
  int nacc = 0;
  void bits(int n, uint32_t v) {  // n <= 32
    for (int i = n - 1; i >= 0; i--) {
      acc = (acc << 1) | ((v >> i) & 1);
      if (++nacc == 8) {
        out.push_back(uint8_t(acc));
        acc = 0;
        nacc = 0;
      }
    }
  }
  void ints(int nbits, const uint32_t sizes[3], const uint32_t nums[3]) {
    // Mixed-radix number ((n0 * s1) + n1) * s2 + n2, least significant byte first.
    unsigned __int128 v = (static_cast<unsigned __int128>(nums[0]) * sizes[1] + nums[1]) * sizes[2] + nums[2];
    while (nbits > 8) {
      bits(8, uint32_t(v & 0xff));
      v >>= 8;
      nbits -= 8;
    }
    if (nbits > 0) bits(nbits, uint32_t(v & ((1u << nbits) - 1)));
  }
  size_t finish() {
    size_t n = out.size();
    if (nacc) {
      out.push_back(uint8_t(acc << (8 - nacc)));
      n++;
    }
    return n;
  }
};

inline void xtc_frame(Bytes& b, const System& s, int step, float time, float precision = 1000.0f, int magic = 1995) {
  const int n = s.n;
  be32(b, magic);
  be32(b, n);
  be32(b, step);
  bef(b, time);
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 3; c++) bef(b, r == c ? s.box : 0.0f);
  be32(b, n);
  if (n <= 9) {
    for (int k = 0; k < 3 * n; k++) bef(b, s.x[k]);
    return;
  }
  std::vector<int> ip(3 * size_t(n));
  int minint[3] = {INT32_MAX, INT32_MAX, INT32_MAX}, maxint[3] = {INT32_MIN, INT32_MIN, INT32_MIN};
  int mindiff = INT32_MAX;
  for (int i = 0; i < n; i++) {
    for (int k = 0; k < 3; k++) {
      float f = s.x[3 * i + k] * precision;
      int v = int(f >= 0 ? f + 0.5f : f - 0.5f);
      ip[3 * i + k] = v;
      minint[k] = std::min(minint[k], v);
      maxint[k] = std::max(maxint[k], v);
    }
    if (i > 0) {
      int d = std::abs(ip[3 * i] - ip[3 * i - 3]) + std::abs(ip[3 * i + 1] - ip[3 * i - 2]) + std::abs(ip[3 * i + 2] - ip[3 * i - 1]);
      mindiff = std::min(mindiff, d);
    }
  }
  bef(b, precision);
  for (int k = 0; k < 3; k++) be32(b, minint[k]);
  for (int k = 0; k < 3; k++) be32(b, maxint[k]);
  using westream::formats::xdr::kFirstIdx;
  using westream::formats::xdr::kMagicCount;
  using westream::formats::xdr::kMagicInts;
  uint32_t sizeint[3];
  for (int k = 0; k < 3; k++) sizeint[k] = uint32_t(maxint[k] - minint[k] + 1);
  int bitsizeint[3] = {0, 0, 0};
  int bitsize = 0;
  if ((sizeint[0] | sizeint[1] | sizeint[2]) > 0xffffff) {
    for (int k = 0; k < 3; k++) bitsizeint[k] = westream::formats::xdr::sizeofint(sizeint[k]);
  } else {
    bitsize = westream::formats::xdr::sizeofints3(sizeint);
  }
  int smallidx = kFirstIdx;
  while (smallidx < kMagicCount - 1 && kMagicInts[smallidx] < mindiff) smallidx++;
  be32(b, smallidx);
  int maxidx = std::min(kMagicCount - 1, smallidx + 8);
  int minidx = maxidx - 8;
  int smaller = kMagicInts[std::max(kFirstIdx, smallidx - 1)] / 2;
  int smallnum = kMagicInts[smallidx] / 2;
  uint32_t sizesmall[3] = {uint32_t(kMagicInts[smallidx]), uint32_t(kMagicInts[smallidx]), uint32_t(kMagicInts[smallidx])};
  int larger = kMagicInts[maxidx] / 2;
  BitWriter w;
  int prevcoord[3] = {0, 0, 0};
  int prevrun = -1;
  int i = 0;
  while (i < n) {
    int is_small = 0, is_smaller;
    int* tc = &ip[3 * size_t(i)];
    if (smallidx < maxidx && i >= 1 && std::abs(tc[0] - prevcoord[0]) < larger && std::abs(tc[1] - prevcoord[1]) < larger &&
        std::abs(tc[2] - prevcoord[2]) < larger)
      is_smaller = 1;
    else if (smallidx > minidx)
      is_smaller = -1;
    else
      is_smaller = 0;
    if (i + 1 < n && std::abs(tc[0] - tc[3]) < smallnum && std::abs(tc[1] - tc[4]) < smallnum && std::abs(tc[2] - tc[5]) < smallnum) {
      for (int k = 0; k < 3; k++) std::swap(tc[k], tc[3 + k]);
      is_small = 1;
    }
    uint32_t tmp[3] = {uint32_t(tc[0] - minint[0]), uint32_t(tc[1] - minint[1]), uint32_t(tc[2] - minint[2])};
    if (bitsize == 0) {
      for (int k = 0; k < 3; k++) w.bits(bitsizeint[k], tmp[k]);
    } else {
      w.ints(bitsize, sizeint, tmp);
    }
    for (int k = 0; k < 3; k++) prevcoord[k] = tc[k];
    i++;
    int run = 0;
    uint32_t runc[30];
    if (is_small == 0 && is_smaller == -1) is_smaller = 0;
    while (is_small && run < 8 * 3) {
      int* t = &ip[3 * size_t(i)];
      long sum = 0;
      for (int k = 0; k < 3; k++) sum += long(t[k] - prevcoord[k]) * (t[k] - prevcoord[k]);
      if (is_smaller == -1 && sum >= long(smaller) * smaller) is_smaller = 0;
      for (int k = 0; k < 3; k++) runc[run++] = uint32_t(t[k] - prevcoord[k] + smallnum);
      for (int k = 0; k < 3; k++) prevcoord[k] = t[k];
      i++;
      is_small = 0;
      if (i < n) {
        int* u = &ip[3 * size_t(i)];
        if (std::abs(u[0] - prevcoord[0]) < smallnum && std::abs(u[1] - prevcoord[1]) < smallnum && std::abs(u[2] - prevcoord[2]) < smallnum)
          is_small = 1;
      }
    }
    if (run != prevrun || is_smaller != 0) {
      prevrun = run;
      w.bits(1, 1);
      w.bits(5, uint32_t(run + is_smaller + 1));
    } else {
      w.bits(1, 0);
    }
    for (int k = 0; k < run; k += 3) w.ints(smallidx, sizesmall, &runc[k]);
    if (is_smaller != 0) {
      smallidx += is_smaller;
      if (is_smaller < 0) {
        smallnum = smaller;
        smaller = kMagicInts[smallidx - 1] / 2;
      } else {
        smaller = smallnum;
        smallnum = kMagicInts[smallidx] / 2;
      }
      for (auto& z : sizesmall) z = uint32_t(kMagicInts[smallidx]);
    }
  }
  size_t nbytes = w.finish();
  if (magic == 2023) be64(b, nbytes);
  else be32(b, uint32_t(nbytes));
  b.insert(b.end(), w.out.begin(), w.out.end());
  while (b.size() % 4) b.push_back(0);
}

// ---- TRR ---------------------------------------------------------------------

inline void trr_frame(Bytes& b, const System& s, int step, float time, bool dbl, bool x, bool v, bool f) {
  const int n = s.n;
  const int real = dbl ? 8 : 4;
  be32(b, 1993);
  be32(b, 13);
  be32(b, 12);
  for (char c : std::string("GMX_trn_file")) b.push_back(uint8_t(c));
  int sizes[13] = {0, 0, 9 * real, 0, 0, 0, 0, x ? 3 * n * real : 0, v ? 3 * n * real : 0, f ? 3 * n * real : 0, n, step, 0};
  for (int k : sizes) be32(b, uint32_t(k));
  auto r = [&](double d) {
    if (dbl) bed(b, d);
    else bef(b, float(d));
  };
  r(time);
  r(0.0);
  for (int i = 0; i < 9; i++) r(i % 4 == 0 ? s.box : 0.0);
  if (x)
    for (float c : s.x) r(c);
  if (v)
    for (float c : s.x) r(c * 0.5);
  if (f)
    for (float c : s.x) r(c * 2.0);
}

// ---- DCD ---------------------------------------------------------------------

inline void dcd_header(Bytes& b, int n, bool little, bool cell, int namnf = 0, int istart = 100, int nsavc = 10) {
  put32(b, 84, little);
  for (char c : std::string("CORD")) b.push_back(uint8_t(c));
  int icntrl[20] = {0};
  icntrl[1] = istart;
  icntrl[2] = nsavc;
  icntrl[8] = namnf;
  icntrl[10] = cell ? 1 : 0;
  icntrl[19] = 24;
  for (int k = 0; k < 20; k++) {
    if (k == 9) putf(b, 0.002f / 0.04888821f * 1.0f, little);  // 2 fs in AKMA
    else put32(b, uint32_t(icntrl[k]), little);
  }
  put32(b, 84, little);
  put32(b, 164, little);
  put32(b, 2, little);
  for (int k = 0; k < 160; k++) b.push_back(' ');
  put32(b, 164, little);
  put32(b, 4, little);
  put32(b, uint32_t(n), little);
  put32(b, 4, little);
}

inline void dcd_frame(Bytes& b, const System& s, bool little, bool cell) {
  if (cell) {
    put32(b, 48, little);
    double box = s.box * 10.0;
    double u[6] = {box, 0.0, box, 0.0, 0.0, box};  // A, cos gamma, B, cos beta, cos alpha, C
    for (double d : u) putd(b, d, little);
    put32(b, 48, little);
  }
  for (int d = 0; d < 3; d++) {
    put32(b, uint32_t(4 * s.n), little);
    for (int i = 0; i < s.n; i++) putf(b, s.x[3 * i + d] * 10.0f, little);
    put32(b, uint32_t(4 * s.n), little);
  }
}

// ---- AMBER NetCDF (CDF-2) ------------------------------------------------------

inline void nc_name(Bytes& b, const std::string& s) {
  be32(b, uint32_t(s.size()));
  for (char c : s) b.push_back(uint8_t(c));
  while (b.size() % 4) b.push_back(0);
}

// Header plus `frames` records; numrecs as given (may lag or lead).
inline Bytes netcdf_file(const std::vector<System>& frames, uint32_t numrecs, bool velocities = false) {
  const int n = frames.empty() ? 3 : frames[0].n;
  Bytes h;
  h.insert(h.end(), {'C', 'D', 'F', 2});
  be32(h, numrecs);
  // dims: frame(0) spatial(3) atom(n) cell_spatial(3) cell_angular(3) label(5)
  be32(h, 0x0A);
  be32(h, 6);
  const char* dn[6] = {"frame", "spatial", "atom", "cell_spatial", "cell_angular", "label"};
  uint32_t dl[6] = {0, 3, uint32_t(n), 3, 3, 5};
  for (int k = 0; k < 6; k++) {
    nc_name(h, dn[k]);
    be32(h, dl[k]);
  }
  be32(h, 0x0C);
  be32(h, 2);
  nc_name(h, "Conventions");
  be32(h, 2);
  be32(h, 5);
  for (char c : std::string("AMBER")) h.push_back(uint8_t(c));
  while (h.size() % 4) h.push_back(0);
  nc_name(h, "ConventionVersion");
  be32(h, 2);
  be32(h, 3);
  for (char c : std::string("1.0")) h.push_back(uint8_t(c));
  while (h.size() % 4) h.push_back(0);
  // vars: spatial(char[3]) time coordinates cell_lengths cell_angles [velocities]
  struct V {
    std::string name;
    std::vector<uint32_t> dims;
    uint32_t type;
    uint64_t size;
    bool rec;
    double scale;
  };
  std::vector<V> vs = {{"spatial", {1}, 2, 4, false, 0},
                       {"time", {0}, 5, 4, true, 0},
                       {"coordinates", {0, 2, 1}, 5, uint64_t(12) * n, true, 0},
                       {"cell_lengths", {0, 3}, 6, 24, true, 0},
                       {"cell_angles", {0, 4}, 6, 24, true, 0}};
  if (velocities) vs.push_back({"velocities", {0, 2, 1}, 5, uint64_t(12) * n, true, 20.455});
  // Header size first (begins depend on it): build twice.
  auto build = [&](uint64_t first_begin, Bytes& out) {
    out = h;
    be32(out, 0x0B);
    be32(out, uint32_t(vs.size()));
    uint64_t begin = first_begin;
    for (auto& v : vs) {
      nc_name(out, v.name);
      be32(out, uint32_t(v.dims.size()));
      for (uint32_t d : v.dims) be32(out, d);
      if (v.scale != 0) {
        be32(out, 0x0C);
        be32(out, 1);
        nc_name(out, "scale_factor");
        be32(out, 5);
        be32(out, 1);
        bef(out, float(v.scale));
      } else {
        be32(out, 0);
        be32(out, 0);
      }
      be32(out, v.type);
      be32(out, uint32_t((v.size + 3) & ~3ull));
      be64(out, begin);
      begin += (v.size + 3) & ~3ull;
    }
  };
  Bytes out;
  build(0, out);
  uint64_t hdr = out.size();
  build(hdr, out);
  // non-record: spatial "xyz" + pad
  out.insert(out.end(), {'x', 'y', 'z', 0});
  for (size_t r = 0; r < frames.size(); r++) {
    const System& s = frames[r];
    bef(out, float(r) * 2.0f);
    for (float c : s.x) bef(out, c * 10.0f);
    for (int k = 0; k < 3; k++) bed(out, s.box * 10.0);
    for (int k = 0; k < 3; k++) bed(out, 90.0);
    if (velocities)
      for (float c : s.x) bef(out, c / 20.455f);
  }
  return out;
}

// ---- LAMMPS dump custom ----------------------------------------------------------

inline std::string lammps_snapshot(const System& s, long step, bool shuffled, const std::string& cols = "id type x y z",
                                   bool triclinic = false) {
  std::string o = "ITEM: TIMESTEP\n" + std::to_string(step) + "\nITEM: NUMBER OF ATOMS\n" + std::to_string(s.n) + "\n";
  double L = s.box * 10.0;
  if (triclinic)
    o += "ITEM: BOX BOUNDS xy xz yz pp pp pp\n0 " + std::to_string(L + 1.0) + " 1.0\n0 " + std::to_string(L) + " 0.0\n0 " +
         std::to_string(L) + " 0.0\n";
  else
    o += "ITEM: BOX BOUNDS pp pp pp\n0 " + std::to_string(L) + "\n0 " + std::to_string(L) + "\n0 " + std::to_string(L) + "\n";
  o += "ITEM: ATOMS " + cols + "\n";
  char line[256];
  for (int j = 0; j < s.n; j++) {
    int i = shuffled ? (j * 7 + 3) % s.n : j;  // a permutation when gcd(7, n) = 1
    const float* x = &s.x[3 * size_t(i)];
    if (cols == "id type xs ys zs")
      snprintf(line, sizeof line, "%d 1 %.7f %.7f %.7f\n", i + 1, x[0] * 10 / L, x[1] * 10 / L, x[2] * 10 / L);
    else
      snprintf(line, sizeof line, "%d 1 %.5f %.5f %.5f\n", i + 1, x[0] * 10.0, x[1] * 10.0, x[2] * 10.0);
    o += line;
  }
  return o;
}

}  // namespace wsfmt
