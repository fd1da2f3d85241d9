// XTC coordinate decompression (xdr3dfcoord). Same arithmetic as libxdrf,
// with a 64-bit bit reader and mixed-radix unpacking by multiply-and-correct
// instead of libxdrf's byte-at-a-time long division; every count and index
// that comes from the file is bounds-checked.
#include "xdr.h"

#include <cstring>

#include "decoder.h"

namespace westream {
namespace formats {
namespace xdr {

const int kMagicInts[kMagicCount] = {
    0,       0,       0,       0,       0,       0,       0,       0,       0,       8,       10,
    12,      16,      20,      25,      32,      40,      50,      64,      80,      101,     128,
    161,     203,     256,     322,     406,     512,     645,     812,     1024,    1290,    1625,
    2048,    2580,    3250,    4096,    5060,    6501,    8192,    10321,   13003,   16384,   20642,
    26007,   32768,   41285,   52015,   65536,   82570,   104031,  131072,  165140,  208063,  262144,
    330280,  416127,  524287,  660561,  832255,  1048576, 1321122, 1664510, 2097152, 2642245, 3329021,
    4194304, 5284491, 6658042, 8388607, 10568983, 13316085, 16777216};

namespace {

struct InvTable {
  double inv[kMagicCount];
  InvTable() {
    for (int i = 0; i < kMagicCount; i++) inv[i] = kMagicInts[i] ? 1.0 / kMagicInts[i] : 0.0;
  }
};
const InvTable kInv;

// MSB-first bit reader over a buffer with kPayloadSlack readable bytes past
// its end (so an 8-byte load never leaves the allocation; overruns are
// detected by the caller comparing pos with the payload's bit length).
struct Bits {
  const uint8_t* p;
  uint64_t pos = 0;
  inline uint32_t get(int n) {  // 1 <= n <= 32
    uint64_t w = load_be64(p + (pos >> 3)) << (pos & 7);
    pos += n;
    return static_cast<uint32_t>(w >> (64 - n));
  }
  inline uint64_t get_wide(int n) {  // 0 <= n <= 64
    if (n == 0) return 0;
    if (n <= 32) return get(n);
    uint64_t hi = get(n - 32);
    return (hi << 32) | get(32);
  }
};

// libxdrf's receiveints for bit counts up to 64: the number is sent least
// significant byte first, 8 bits at a time, the last chunk with the rest.
inline uint64_t receive_number(Bits& b, int nbits) {
  int nfull = (nbits - 1) / 8;
  int last = nbits - 8 * nfull;
  uint64_t n = 0;
  if (nfull > 0) {
    uint64_t v = b.get_wide(8 * nfull);
    n = __builtin_bswap64(v << (64 - 8 * nfull));
  }
  n |= static_cast<uint64_t>(b.get(last)) << (8 * nfull);
  return n;
}

// Same, for up to 96 bits (sizes up to 0xffffff each give at most 72).
inline unsigned __int128 receive_number_wide(Bits& b, int nbits) {
  unsigned __int128 n = 0;
  int shift = 0;
  while (nbits > 8) {
    n |= static_cast<unsigned __int128>(b.get(8)) << shift;
    shift += 8;
    nbits -= 8;
  }
  if (nbits > 0) n |= static_cast<unsigned __int128>(b.get(nbits)) << shift;
  return n;
}

// q = n / d, *r = n % d, for n < 2^52 via a double reciprocal and one correction.
inline uint64_t divmod_fast(uint64_t n, uint32_t d, double inv, uint32_t* r) {
  uint64_t q = static_cast<uint64_t>(static_cast<double>(n) * inv);
  int64_t rem = static_cast<int64_t>(n - q * d);
  if (rem < 0) {
    q--;
    rem += d;
  } else if (rem >= static_cast<int64_t>(d)) {
    q++;
    rem -= d;
  }
  *r = static_cast<uint32_t>(rem);
  return q;
}

// Unpacks three integers packed as one mixed-radix number of nbits bits.
inline void receive_ints(Bits& b, int nbits, const uint32_t s[3], const double inv[3], uint32_t out[3]) {
  if (nbits <= 52) {
    uint64_t n = receive_number(b, nbits);
    n = divmod_fast(n, s[2], inv[2], &out[2]);
    out[0] = static_cast<uint32_t>(divmod_fast(n, s[1], inv[1], &out[1]));
  } else if (nbits <= 64) {
    uint64_t n = receive_number(b, nbits);
    out[2] = static_cast<uint32_t>(n % s[2]);
    n /= s[2];
    out[1] = static_cast<uint32_t>(n % s[1]);
    out[0] = static_cast<uint32_t>(n / s[1]);
  } else {
    unsigned __int128 n = receive_number_wide(b, nbits);
    out[2] = static_cast<uint32_t>(n % s[2]);
    n /= s[2];
    out[1] = static_cast<uint32_t>(n % s[1]);
    out[0] = static_cast<uint32_t>(n / s[1]);
  }
}

inline void emit(float* out, const uint32_t c[3], float invp, float scale) {
  // int → float, × 1/precision (libxdrf), × scale (nm → Å, as MDAnalysis does it).
  out[0] = (static_cast<float>(static_cast<int32_t>(c[0])) * invp) * scale;
  out[1] = (static_cast<float>(static_cast<int32_t>(c[1])) * invp) * scale;
  out[2] = (static_cast<float>(static_cast<int32_t>(c[2])) * invp) * scale;
}

}  // namespace

int sizeofint(uint32_t size) {
  uint64_t num = 1;
  int bits = 0;
  while (size >= num && bits < 32) {
    bits++;
    num <<= 1;
  }
  return bits;
}

int sizeofints3(const uint32_t sizes[3]) {
  unsigned __int128 p = static_cast<unsigned __int128>(sizes[0]) * sizes[1] * sizes[2];
  int bits = 0;
  while (p != 0) {
    bits++;
    p >>= 1;
  }
  return bits;
}

std::string decompress(const CompressedCoords& c, float invp, float scale, float* out) {
  if (c.smallidx < kFirstIdx || c.smallidx >= kMagicCount)
    return "XTC smallidx " + std::to_string(c.smallidx) + " outside [" + std::to_string(kFirstIdx) + ", " +
           std::to_string(kMagicCount - 1) + "]";
  uint32_t sizeint[3];
  for (int k = 0; k < 3; k++) {
    int64_t s = int64_t(c.maxint[k]) - int64_t(c.minint[k]) + 1;
    if (s <= 0 || s > 0xffffffffLL)
      return "XTC integer range [" + std::to_string(c.minint[k]) + ", " + std::to_string(c.maxint[k]) + "] is empty or too large";
    sizeint[k] = static_cast<uint32_t>(s);
  }
  int bitsizeint[3] = {0, 0, 0};
  int bitsize = 0;
  if ((sizeint[0] | sizeint[1] | sizeint[2]) > 0xffffff) {
    for (int k = 0; k < 3; k++) bitsizeint[k] = sizeofint(sizeint[k]);
  } else {
    bitsize = sizeofints3(sizeint);
  }
  const double inv_large[3] = {1.0 / sizeint[0], 1.0 / sizeint[1], 1.0 / sizeint[2]};
  const uint32_t minint[3] = {static_cast<uint32_t>(c.minint[0]), static_cast<uint32_t>(c.minint[1]),
                              static_cast<uint32_t>(c.minint[2])};

  int smallidx = c.smallidx;
  int smaller = kMagicInts[smallidx - 1 > kFirstIdx ? smallidx - 1 : kFirstIdx] / 2;
  int smallnum = kMagicInts[smallidx] / 2;

  Bits bits{c.payload};
  const uint64_t limit = static_cast<uint64_t>(c.nbytes) * 8;
  const int natoms = c.natoms;
  int run = 0;  // persists across atoms when the flag bit is 0 (as in libxdrf)
  int i = 0;
  float* o = out;
  uint32_t thiscoord[3], prevcoord[3], small[3];
  while (i < natoms) {
    // One iteration reads at most ~800 bits, well inside kPayloadSlack.
    if (bits.pos > limit) return "XTC compressed coordinates end early (atom " + std::to_string(i) + ")";
    if (bitsize == 0) {
      thiscoord[0] = bits.get(bitsizeint[0]);
      thiscoord[1] = bits.get(bitsizeint[1]);
      thiscoord[2] = bits.get(bitsizeint[2]);
    } else {
      receive_ints(bits, bitsize, sizeint, inv_large, thiscoord);
    }
    i++;
    thiscoord[0] += minint[0];
    thiscoord[1] += minint[1];
    thiscoord[2] += minint[2];
    prevcoord[0] = thiscoord[0];
    prevcoord[1] = thiscoord[1];
    prevcoord[2] = thiscoord[2];

    int is_smaller = 0;
    if (bits.get(1)) {
      run = static_cast<int>(bits.get(5));
      is_smaller = run % 3;
      run -= is_smaller;
      is_smaller--;
    }
    if (run > 0) {
      if (i + run / 3 > natoms)
        return "XTC run of " + std::to_string(run / 3) + " atoms after atom " + std::to_string(i - 1) +
               " goes past the " + std::to_string(natoms) + " atoms of the frame";
      const uint32_t s = static_cast<uint32_t>(kMagicInts[smallidx]);
      const uint32_t ss[3] = {s, s, s};
      const double inv = kInv.inv[smallidx];
      const double is[3] = {inv, inv, inv};
      const uint32_t sn = static_cast<uint32_t>(smallnum);
      for (int k = 0; k < run; k += 3) {
        receive_ints(bits, smallidx, ss, is, small);
        i++;
        small[0] += prevcoord[0] - sn;
        small[1] += prevcoord[1] - sn;
        small[2] += prevcoord[2] - sn;
        if (k == 0) {
          // The writer swapped the first small atom with the large one (water).
          emit(o, small, invp, scale);
          o += 3;
          emit(o, prevcoord, invp, scale);
          o += 3;
          // Later deltas of the run are relative to the first small atom.
          prevcoord[0] = small[0];
          prevcoord[1] = small[1];
          prevcoord[2] = small[2];
        } else {
          prevcoord[0] = small[0];
          prevcoord[1] = small[1];
          prevcoord[2] = small[2];
          emit(o, small, invp, scale);
          o += 3;
        }
      }
    } else {
      emit(o, thiscoord, invp, scale);
      o += 3;
    }
    smallidx += is_smaller;
    if (smallidx < kFirstIdx || smallidx >= kMagicCount)
      return "XTC smallidx moved to " + std::to_string(smallidx) + " at atom " + std::to_string(i - 1);
    if (is_smaller < 0) {
      smallnum = smaller;
      smaller = smallidx > kFirstIdx ? kMagicInts[smallidx - 1] / 2 : 0;
    } else if (is_smaller > 0) {
      smaller = smallnum;
      smallnum = kMagicInts[smallidx] / 2;
    }
  }
  if (bits.pos > limit) return "XTC compressed coordinates end early (last atom)";
  return std::string();
}

}  // namespace xdr
}  // namespace formats
}  // namespace westream
