// Format names, detection, the decoder factory and shared helpers.
#include "decoder.h"

#include <cmath>
#include <cstring>

namespace westream {
namespace formats {

// Defined in the format files.
std::unique_ptr<Decoder> make_xtc_decoder();
std::unique_ptr<Decoder> make_trr_decoder();
std::unique_ptr<Decoder> make_dcd_decoder();
std::unique_ptr<Decoder> make_netcdf_decoder();
std::unique_ptr<Decoder> make_lammps_decoder();

const char* format_name(Format f) {
  switch (f) {
    case Format::Xtc: return "xtc";
    case Format::Trr: return "trr";
    case Format::Dcd: return "dcd";
    case Format::NetCdf: return "netcdf";
    case Format::LammpsDump: return "lammpsdump";
    default: return "unknown";
  }
}

Format format_from_name(const std::string& n) {
  std::string s;
  for (char c : n) s += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (s == "xtc") return Format::Xtc;
  if (s == "trr") return Format::Trr;
  if (s == "dcd") return Format::Dcd;
  if (s == "netcdf" || s == "nc" || s == "ncdf" || s == "amber" || s == "ambernetcdf") return Format::NetCdf;
  if (s == "lammpsdump" || s == "lammpstrj" || s == "lammps" || s == "dump") return Format::LammpsDump;
  return Format::Unknown;
}

Format format_from_extension(const std::string& path) {
  size_t slash = path.find_last_of('/');
  size_t dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return Format::Unknown;
  std::string ext = path.substr(dot + 1);
  if (ext == "netcdf" || ext == "nc" || ext == "ncdf") return Format::NetCdf;
  if (ext == "lammpstrj" || ext == "lammpsdump" || ext == "dump") return Format::LammpsDump;
  Format f = format_from_name(ext);
  return f == Format::NetCdf || f == Format::LammpsDump ? Format::Unknown : f;
}

Format detect_format(const uint8_t* p, size_t n, size_t* need) {
  *need = 0;
  if (n < 4) {
    *need = 4;
    return Format::Unknown;
  }
  uint32_t be = load_be32(p);
  if (be == 1995 || be == 2023) return Format::Xtc;
  if (be == 1993) return Format::Trr;
  if (p[0] == 'C' && p[1] == 'D' && p[2] == 'F') return Format::NetCdf;
  uint32_t le;
  std::memcpy(&le, p, 4);
  if (le == 84 || be == 84) {
    if (n < 8) {
      *need = 8;
      return Format::Unknown;
    }
    if (std::memcmp(p + 4, "CORD", 4) == 0 || std::memcmp(p + 4, "VELD", 4) == 0) return Format::Dcd;
    return Format::Unknown;
  }
  static const char kItem[] = "ITEM:";
  if (n < 5) {
    if (std::memcmp(p, kItem, n) == 0) *need = 5;
    return Format::Unknown;
  }
  if (std::memcmp(p, kItem, 5) == 0) return Format::LammpsDump;
  return Format::Unknown;
}

std::unique_ptr<Decoder> make_decoder(Format f) {
  switch (f) {
    case Format::Xtc: return make_xtc_decoder();
    case Format::Trr: return make_trr_decoder();
    case Format::Dcd: return make_dcd_decoder();
    case Format::NetCdf: return make_netcdf_decoder();
    case Format::LammpsDump: return make_lammps_decoder();
    default: return nullptr;
  }
}

void Decoder::check_natoms(int64_t n, uint64_t offset, const char* what) {
  if (n <= 0 || n > kMaxAtoms)
    fail(std::string("impossible atom count ") + std::to_string(n) + " in " + what, offset);
  if (natoms_ >= 0 && n != natoms_)
    fail("atom count changed from " + std::to_string(natoms_) + " to " + std::to_string(n) + " in " + what, offset);
  natoms_ = n;
}

bool box_from_lengths_angles(double a, double b, double c, double alpha, double beta, double gamma, float out[6]) {
  for (int k = 0; k < 6; k++) out[k] = 0;
  if (!(a > 0 && b > 0 && c > 0) || !std::isfinite(a) || !std::isfinite(b) || !std::isfinite(c)) return false;
  if (!(alpha > 0 && alpha < 180 && beta > 0 && beta < 180 && gamma > 0 && gamma < 180)) return false;
  const double d = M_PI / 180.0;
  // Exact zeros for right angles (cos(90°) is not 0 in floating point).
  auto cosd = [d](double x) { return x == 90.0 ? 0.0 : std::cos(x * d); };
  auto sind = [d](double x) { return x == 90.0 ? 1.0 : std::sin(x * d); };
  double ca = cosd(alpha), cb = cosd(beta), cg = cosd(gamma), sg = sind(gamma);
  double bx = b * cg, by = b * sg;
  double cx = c * cb;
  double cy = c * (ca - cb * cg) / sg;
  double cz2 = c * c - cx * cx - cy * cy;
  if (!(cz2 > 0)) return false;
  out[0] = static_cast<float>(a);
  out[1] = static_cast<float>(bx);
  out[2] = static_cast<float>(by);
  out[3] = static_cast<float>(cx);
  out[4] = static_cast<float>(cy);
  out[5] = static_cast<float>(std::sqrt(cz2));
  return true;
}

std::string format_offset(uint64_t offset) { return "byte " + std::to_string(offset); }

}  // namespace formats
}  // namespace westream
