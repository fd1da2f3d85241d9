// LAMMPS `dump custom` text: id, type, x/y/z (wrapped), xu/yu/zu
// (unwrapped), xs/ys/zs and xsu/ysu/zsu (scaled), vx/vy/vz, fx/fy/fz.
// Orthogonal, restricted triclinic and general triclinic (2024+) boxes.
// Atoms are reordered by id. Coordinate columns are chosen in MDAnalysis'
// order of preference: unscaled, scaled, unwrapped, scaled unwrapped.
//
// Units: from ITEM: UNITS when the dump has it (dump_modify units yes),
// else from set_units(), else lengths are taken as Å (real and metal) and
// time, velocities and forces are left out (their units are unknown).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "decoder.h"

namespace westream {
namespace formats {
namespace {

struct Units {
  bool known = false;
  double length = 1, time = 1, velocity = 1, force = 1;  // → Å, ps, Å/ps, kJ/(mol·Å)
};

bool units_for(const std::string& style, Units* u) {
  const double NA = 6.02214076e23;
  Units r;
  r.known = true;
  if (style == "real") { r.time = 1e-3; r.velocity = 1e3; r.force = 4.184; }
  else if (style == "metal") { r.force = 96.48533212; }
  else if (style == "si") { r.length = 1e10; r.time = 1e12; r.velocity = 1e-2; r.force = NA * 1e-3 * 1e-10; }
  else if (style == "cgs") { r.length = 1e8; r.time = 1e12; r.velocity = 1e-4; r.force = NA * 1e-5 * 1e-3 * 1e-10; }
  else if (style == "electron") { r.length = 0.529177210903; r.time = 1e-3; r.velocity = 0.529177210903 / 2.4188843265857e-5; r.force = 2625.4996394799 / 0.529177210903; }
  else if (style == "micro") { r.length = 1e4; r.time = 1e6; r.velocity = 1e-2; r.force = NA * 1e-9 * 1e-3 * 1e-10; }
  else if (style == "nano") { r.length = 10; r.time = 1e3; r.velocity = 1e-2; r.force = NA * 1e-12 * 1e-3 * 1e-10; }
  else if (style == "lj") { r.known = false; }  // reduced units: positions as they are, nothing else
  else return false;
  *u = r;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string shorten(std::string_view s) {
  std::string r(s.substr(0, 60));
  for (char& c : r)
    if (static_cast<unsigned char>(c) < 32 || static_cast<unsigned char>(c) > 126) c = '?';
  return s.size() > 60 ? r + "..." : r;
}

class LammpsDecoder : public Decoder {
 public:
  Format format() const override { return Format::LammpsDump; }
  void set_units(const std::string& style) override {
    Units u;
    if (units_for(style, &u)) {
      default_units_ = u;
      units_ = u;
    }
  }

  Step next(const Input& in, FrameSink& sink, FrameData& out) override {
    data_ = reinterpret_cast<const char*>(in.data);
    size_ = in.size;
    pos_ = 0;
    base_ = in.offset;
    try {
      return snapshot(in, sink, out);
    } catch (const More&) {
      Step s;
      s.status = Status::NeedMore;
      s.need = std::max(in.size + 1, want_);
      return s;
    }
  }

 private:
  struct More {};

  // Next complete line (without its newline); throws More when incomplete.
  // LAMMPS ends every line with a newline, so a last line without one is
  // incomplete even at the end of the data: while the writer runs, the rest
  // is still to come; once the data is final it is a truncated file (the
  // reader says so), never a number cut short ("16.5302" read as "16").
  std::string_view line() {
    if (pos_ >= size_) throw More();
    const char* nl = static_cast<const char*>(std::memchr(data_ + pos_, '\n', size_ - pos_));
    if (!nl) throw More();
    const size_t end = size_t(nl - data_);
    std::string_view l(data_ + pos_, end - pos_);
    line_at_ = pos_;
    pos_ = end + 1;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    return l;
  }
  uint64_t here() const { return base_ + line_at_; }

  double number(std::string_view tok, const char* what) {
    double v = 0;
    const char* b = tok.data();
    const char* e = b + tok.size();
    if (!tok.empty() && *b == '+') b++;
    auto r = std::from_chars(b, e, v);
    if (r.ec != std::errc() || r.ptr != e || !std::isfinite(v))
      fail(std::string("bad number '") + shorten(tok) + "' for " + what + " in LAMMPS dump", here());
    return v;
  }
  int64_t integer(std::string_view tok, const char* what) {
    int64_t v = 0;
    const char* b = tok.data();
    const char* e = b + tok.size();
    auto r = std::from_chars(b, e, v);
    if (r.ec != std::errc() || r.ptr != e) fail(std::string("bad integer '") + shorten(tok) + "' for " + what + " in LAMMPS dump", here());
    return v;
  }
  // Splits on blanks into toks_; returns the count.
  size_t split(std::string_view l) {
    toks_.clear();
    size_t i = 0, n = l.size();
    while (i < n) {
      while (i < n && (l[i] == ' ' || l[i] == '\t')) i++;
      size_t s = i;
      while (i < n && l[i] != ' ' && l[i] != '\t') i++;
      if (i > s) toks_.push_back(l.substr(s, i - s));
    }
    return toks_.size();
  }

  std::string_view item() {
    std::string_view l = line();
    if (l.substr(0, 6) != "ITEM: ")
      fail("expected an ITEM: line in LAMMPS dump, found '" + shorten(l) + "'", here());
    return trim(l.substr(6));
  }

  void columns(std::string_view spec) {
    if (spec == columns_spec_) return;
    columns_spec_ = std::string(spec);
    ncols_ = split(spec);
    id_ = -1;
    for (int k = 0; k < 3; k++) coord_[k] = vel_[k] = frc_[k] = -1;
    int x[4][3];
    for (auto& a : x)
      for (int& v : a) v = -1;
    const char* names[4][3] = {{"x", "y", "z"}, {"xs", "ys", "zs"}, {"xu", "yu", "zu"}, {"xsu", "ysu", "zsu"}};
    for (size_t c = 0; c < ncols_; c++) {
      std::string_view t = toks_[c];
      if (t == "id") id_ = int(c);
      for (int k = 0; k < 3; k++) {
        for (int s = 0; s < 4; s++)
          if (t == names[s][k]) x[s][k] = int(c);
        static const char* const kVel[3] = {"vx", "vy", "vz"};
        static const char* const kFrc[3] = {"fx", "fy", "fz"};
        if (t == kVel[k]) vel_[k] = int(c);
        if (t == kFrc[k]) frc_[k] = int(c);
      }
    }
    convention_ = -1;
    for (int s = 0; s < 4 && convention_ < 0; s++)
      if (x[s][0] >= 0 && x[s][1] >= 0 && x[s][2] >= 0) {
        convention_ = s;
        for (int k = 0; k < 3; k++) coord_[k] = x[s][k];
      }
    if (convention_ < 0)
      fail("LAMMPS dump has no complete set of coordinate columns (x y z, xs ys zs, xu yu zu or xsu ysu zsu): '" +
               shorten(spec) + "'", here());
    has_v_ = vel_[0] >= 0 && vel_[1] >= 0 && vel_[2] >= 0;
    has_f_ = frc_[0] >= 0 && frc_[1] >= 0 && frc_[2] >= 0;
  }

  void box(std::string_view flags) {
    split(flags);
    triclinic_ = !toks_.empty() && toks_[0] == "xy";
    general_ = !toks_.empty() && toks_[0] == "abc";
    double v[3][4];
    for (int r = 0; r < 3; r++) {
      size_t n = split(line());
      size_t want = general_ ? 4 : triclinic_ ? 3 : 2;
      if (n < want) fail("LAMMPS BOX BOUNDS line has " + std::to_string(n) + " values (expected " + std::to_string(want) + ")", here());
      for (size_t k = 0; k < want; k++) v[r][k] = number(toks_[k], "the box");
    }
    for (auto& row : rot_)
      for (double& e : row) e = 0;
    rot_[0][0] = rot_[1][1] = rot_[2][2] = 1;
    origin_[0] = origin_[1] = origin_[2] = 0;
    if (general_) {
      // a, b, c as rows with the origin last; rotate to the restricted form.
      double a[3] = {v[0][0], v[0][1], v[0][2]}, b[3] = {v[1][0], v[1][1], v[1][2]}, c[3] = {v[2][0], v[2][1], v[2][2]};
      for (int k = 0; k < 3; k++) origin_[k] = v[k][3];
      double la = std::sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]);
      double n[3] = {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
      double ln = std::sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
      if (!(la > 0) || !(ln > 0)) fail("degenerate general triclinic box in LAMMPS dump", here());
      double e0[3] = {a[0] / la, a[1] / la, a[2] / la}, e2[3] = {n[0] / ln, n[1] / ln, n[2] / ln};
      double e1[3] = {e2[1] * e0[2] - e2[2] * e0[1], e2[2] * e0[0] - e2[0] * e0[2], e2[0] * e0[1] - e2[1] * e0[0]};
      for (int k = 0; k < 3; k++) {
        rot_[0][k] = e0[k];
        rot_[1][k] = e1[k];
        rot_[2][k] = e2[k];
      }
      auto dot = [](const double* p, const double* q) { return p[0] * q[0] + p[1] * q[1] + p[2] * q[2]; };
      h_[0] = la;
      h_[1] = dot(b, e0);
      h_[2] = dot(b, e1);
      h_[3] = dot(c, e0);
      h_[4] = dot(c, e1);
      h_[5] = dot(c, e2);
      lo_[0] = lo_[1] = lo_[2] = 0;
    } else {
      double xy = 0, xz = 0, yz = 0;
      double xlo = v[0][0], xhi = v[0][1], ylo = v[1][0], yhi = v[1][1], zlo = v[2][0], zhi = v[2][1];
      if (triclinic_) {
        xy = v[0][2];
        xz = v[1][2];
        yz = v[2][2];
        xlo -= std::min({0.0, xy, xz, xy + xz});
        xhi -= std::max({0.0, xy, xz, xy + xz});
        ylo -= std::min(0.0, yz);
        yhi -= std::max(0.0, yz);
      }
      h_[0] = xhi - xlo;
      h_[1] = xy;
      h_[2] = yhi - ylo;
      h_[3] = xz;
      h_[4] = yz;
      h_[5] = zhi - zlo;
      lo_[0] = xlo;
      lo_[1] = ylo;
      lo_[2] = zlo;
    }
  }

  Step snapshot(const Input& in, FrameSink& sink, FrameData& out) {
    bool have_time = false, have_step = false, have_n = false, have_box = false;
    double time = 0;
    int64_t step = 0, n = -1;
    units_ = default_units_;
    for (;;) {
      std::string_view it = item();
      if (it == "UNITS") {
        std::string u(trim(line()));
        if (!units_for(u, &units_)) fail("unknown LAMMPS units style '" + shorten(u) + "'", here());
        default_units_ = units_;  // written once, holds for the whole dump
      } else if (it == "TIME") {
        time = number(trim(line()), "the time");
        have_time = true;
      } else if (it == "TIMESTEP") {
        step = integer(trim(line()), "the timestep");
        have_step = true;
      } else if (it == "NUMBER OF ATOMS") {
        n = integer(trim(line()), "the number of atoms");
        check_natoms(n, here(), "the LAMMPS dump");
        have_n = true;
      } else if (it.substr(0, 10) == "BOX BOUNDS") {
        box(it.substr(10));
        have_box = true;
      } else if (it.substr(0, 5) == "ATOMS") {
        if (!have_step || !have_n || !have_box)
          fail("LAMMPS dump snapshot lacks TIMESTEP, NUMBER OF ATOMS or BOX BOUNDS before ATOMS", here());
        columns(trim(it.substr(5)));
        break;
      } else {
        fail("unexpected LAMMPS dump item 'ITEM: " + shorten(it) + "' (dump custom only)", here());
      }
    }
    // Every atom line takes at least two bytes per column (newline
    // included): ask for that much before allocating anything for n atoms.
    // At the end of the data this is a truncation, reported by the reader.
    const size_t atoms_at = pos_;
    if (size_ - atoms_at < size_t(n) * 2 * ncols_) {
      want_ = atoms_at + size_t(n) * 2 * ncols_;
      throw More();
    }
    want_ = 0;
    const size_t N = size_t(n);
    if (raw_.size() != 3 * N) {
      raw_.assign(3 * N, 0);
      ids_.assign(N, 0);
      stamp_.assign(N, 0);
    }
    if (has_v_ && rawv_.size() != 3 * N) rawv_.assign(3 * N, 0);
    if (has_f_ && rawf_.size() != 3 * N) rawf_.assign(3 * N, 0);
    for (size_t i = 0; i < N; i++) {
      std::string_view l = line();
      size_t nt = split(l);
      if (nt != ncols_)
        fail("LAMMPS atom line has " + std::to_string(nt) + " values, the ATOMS header " + std::to_string(ncols_) + ": '" +
                 shorten(l) + "'", here());
      if (id_ >= 0) ids_[i] = integer(toks_[id_], "an atom id");
      for (int k = 0; k < 3; k++) raw_[3 * i + k] = number(toks_[coord_[k]], "a coordinate");
      if (has_v_)
        for (int k = 0; k < 3; k++) rawv_[3 * i + k] = number(toks_[vel_[k]], "a velocity");
      if (has_f_)
        for (int k = 0; k < 3; k++) rawf_[3 * i + k] = number(toks_[frc_[k]], "a force");
    }
    const size_t consumed = pos_;
    order(N, in.offset + atoms_at);
    // Output.
    const double L = units_.length;
    float* x = sink.positions(N);
    const bool scaled = convention_ == 1 || convention_ == 3;
    for (size_t i = 0; i < N; i++) {
      const double* r = &raw_[3 * i];
      double p[3];
      if (scaled) {
        p[0] = r[0] * h_[0] + r[1] * h_[1] + r[2] * h_[3] + lo_[0];
        p[1] = r[1] * h_[2] + r[2] * h_[4] + lo_[1];
        p[2] = r[2] * h_[5] + lo_[2];
      } else if (general_) {
        double d[3] = {r[0] - origin_[0], r[1] - origin_[1], r[2] - origin_[2]};
        for (int k = 0; k < 3; k++) p[k] = rot_[k][0] * d[0] + rot_[k][1] * d[1] + rot_[k][2] * d[2];
      } else {
        p[0] = r[0];
        p[1] = r[1];
        p[2] = r[2];
      }
      float* o = x + 3 * slot(i);
      for (int k = 0; k < 3; k++) o[k] = static_cast<float>(p[k] * L);
    }
    out.positions = x;
    out.velocities = out.forces = nullptr;
    if (units_.known && has_v_) out.velocities = vectors(sink.velocities(N), rawv_, N, units_.velocity);
    if (units_.known && has_f_) out.forces = vectors(sink.forces(N), rawf_, N, units_.force);
    for (int k = 0; k < 6; k++) out.box[k] = static_cast<float>(h_[k] * L);
    out.has_box = h_[0] > 0 && h_[2] > 0 && h_[5] > 0;
    out.step = step;
    out.has_step = true;
    out.has_time = have_time && units_.known;
    out.time = time * units_.time;
    frames_++;
    Step s;
    s.status = Status::Frame;
    s.consumed = consumed;
    return s;
  }

  float* vectors(float* dst, const std::vector<double>& src, size_t N, double scale) {
    for (size_t i = 0; i < N; i++) {
      const double* r = &src[3 * i];
      double p[3] = {r[0], r[1], r[2]};
      if (general_) {
        for (int k = 0; k < 3; k++) p[k] = rot_[k][0] * r[0] + rot_[k][1] * r[1] + rot_[k][2] * r[2];
      }
      float* o = dst + 3 * slot(i);
      for (int k = 0; k < 3; k++) o[k] = static_cast<float>(p[k] * scale);
    }
    return dst;
  }

  size_t slot(size_t i) const { return id_ >= 0 ? slot_[i] : i; }

  // Where each line's atom goes: by id, checked for duplicates and gaps.
  void order(size_t N, uint64_t at) {
    if (id_ < 0) return;
    if (slot_.size() != N) slot_.assign(N, 0);
    generation_++;
    if (generation_ == 0) {
      std::fill(stamp_.begin(), stamp_.end(), 0);
      generation_ = 1;
    }
    if (sorted_.empty()) {
      // Ids 1..N (the usual case) map directly; anything else by search.
      bool dense = true;
      for (size_t i = 0; i < N && dense; i++) dense = ids_[i] >= 1 && uint64_t(ids_[i]) <= N;
      if (!dense) {
        sorted_.assign(ids_.begin(), ids_.end());
        std::sort(sorted_.begin(), sorted_.end());
        for (size_t i = 1; i < N; i++)
          if (sorted_[i] == sorted_[i - 1]) fail("LAMMPS dump has atom id " + std::to_string(sorted_[i]) + " twice", at);
      } else {
        sorted_.assign(1, 0);  // marker: dense
        dense_ = true;
      }
    }
    for (size_t i = 0; i < N; i++) {
      int64_t id = ids_[i];
      size_t s;
      if (dense_) {
        if (id < 1 || uint64_t(id) > N) fail("LAMMPS dump atom id " + std::to_string(id) + " outside 1.." + std::to_string(N), at);
        s = size_t(id - 1);
      } else {
        auto it = std::lower_bound(sorted_.begin(), sorted_.end(), id);
        if (it == sorted_.end() || *it != id)
          fail("LAMMPS dump atom id " + std::to_string(id) + " was not in the first snapshot", at);
        s = size_t(it - sorted_.begin());
      }
      if (stamp_[s] == generation_) fail("LAMMPS dump has atom id " + std::to_string(id) + " twice", at);
      stamp_[s] = generation_;
      slot_[i] = s;
    }
  }

  // Parse state (valid during one next()).
  const char* data_ = nullptr;
  size_t size_ = 0, pos_ = 0, line_at_ = 0, want_ = 0;
  uint64_t base_ = 0;
  std::vector<std::string_view> toks_;
  // Columns.
  std::string columns_spec_ = "\x01";
  size_t ncols_ = 0;
  int id_ = -1, coord_[3] = {-1, -1, -1}, vel_[3] = {-1, -1, -1}, frc_[3] = {-1, -1, -1};
  int convention_ = -1;
  bool has_v_ = false, has_f_ = false;
  // Box.
  bool triclinic_ = false, general_ = false;
  double h_[6] = {0, 0, 0, 0, 0, 0}, lo_[3] = {0, 0, 0}, origin_[3] = {0, 0, 0}, rot_[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
  Units units_, default_units_;
  // Per-frame scratch, allocated once.
  std::vector<double> raw_, rawv_, rawf_;
  std::vector<int64_t> ids_, sorted_;
  std::vector<size_t> slot_;
  std::vector<uint32_t> stamp_;
  uint32_t generation_ = 0;
  bool dense_ = false;
};

}  // namespace

std::unique_ptr<Decoder> make_lammps_decoder() { return std::unique_ptr<Decoder>(new LammpsDecoder()); }

}  // namespace formats
}  // namespace westream
