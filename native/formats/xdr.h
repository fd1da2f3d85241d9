// XDR helpers and the XTC coordinate decompressor (Frans van Hoesel's
// xdr3dfcoord, as written by GROMACS' libxdrf), shared by xtc.cpp, the
// tests and the fuzzers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace westream {
namespace formats {
namespace xdr {

constexpr int kFirstIdx = 9;
constexpr int kMagicCount = 73;  // libxdrf's LASTIDX: valid indices are [kFirstIdx, kMagicCount - 1]
extern const int kMagicInts[kMagicCount];

inline size_t pad4(size_t n) { return (n + 3) & ~size_t(3); }

// The compressed block of one XTC frame, as described by its header.
struct CompressedCoords {
  int natoms;
  int minint[3];
  int maxint[3];
  int smallidx;
  const uint8_t* payload;  // nbytes of bit stream; must be followed by
  size_t nbytes;           // kPayloadSlack readable bytes (decoders copy it into a padded buffer)
};
constexpr size_t kPayloadSlack = 256;

// Decodes natoms × 3 coordinates into out as (float(int) * inv_precision) * scale,
// the same float arithmetic as libxdrf followed by MDAnalysis' nm → Å factor.
// Returns an empty string on success, else what is wrong (no exception:
// the caller adds frame and offset).
std::string decompress(const CompressedCoords& c, float inv_precision, float scale, float* out);

// Bit length of the product of the three sizes (libxdrf's sizeofints).
int sizeofints3(const uint32_t sizes[3]);
// Bits needed for one size (libxdrf's sizeofint).
int sizeofint(uint32_t size);

}  // namespace xdr
}  // namespace formats
}  // namespace westream
