// AMBER NetCDF trajectories (convention "AMBER" 1.0) in NetCDF-3 classic
// (CDF-1) or 64-bit offset (CDF-2) files, read without libnetcdf and
// without seeking: the header, then record after record.
//
// `numrecs` (byte 4, re-read by the reader as the file grows) counts the
// records. A finished file is read as netCDF, MDAnalysis and cpptraj read
// it: numrecs records, and bytes after them are not frames. A followed
// file's writer updates numrecs after the data, so there a record is
// decoded once all its bytes are there and numrecs says it was synced
// (data past numrecs may still hold fill values); once the writer is done,
// numrecs is re-read and a complete record past it is an error (never a
// silent extra frame), as is a count that disagrees with the records
// decoded when the data ends. The streaming marker (numrecs 0xFFFFFFFF)
// gates nothing and is checked against nothing.
#include <cmath>
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "decoder.h"

namespace westream {
namespace formats {
namespace {

constexpr size_t kMaxHeader = 16u << 20;
constexpr uint32_t kStreaming = 0xFFFFFFFFu;

enum NcType { kByte = 1, kChar = 2, kShort = 3, kInt = 4, kFloat = 5, kDouble = 6 };

size_t type_size(uint32_t t) {
  switch (t) {
    case kByte:
    case kChar: return 1;
    case kShort: return 2;
    case kInt:
    case kFloat: return 4;
    case kDouble: return 8;
    default: return 0;
  }
}

struct Incomplete {};  // the header goes on past the bytes we have

struct Cursor {
  const uint8_t* p;
  size_t n;
  size_t pos = 0;
  uint64_t base;  // absolute offset of p[0]
  void want(size_t k) const {
    if (k > n - pos) throw Incomplete();
  }
  uint32_t u32() {
    want(4);
    uint32_t v = load_be32(p + pos);
    pos += 4;
    return v;
  }
  uint64_t u64() {
    want(8);
    uint64_t v = load_be64(p + pos);
    pos += 8;
    return v;
  }
};

struct Var {
  std::string name;
  std::vector<uint32_t> dims;
  uint32_t type = 0;
  uint64_t begin = 0;
  bool record = false;
  uint64_t size = 0;  // bytes per record (record vars) or in total
  size_t off = 0;     // offset inside a record
  double scale = 1.0;
  std::string units;
};

class NetCdfDecoder : public Decoder {
 public:
  Format format() const override { return Format::NetCdf; }
  size_t refresh_bytes() const override { return 8; }
  uint64_t header_end() const override { return rec_begin_; }
  bool reread_from_start() const override { return rec_begin_ == 0; }
  bool refresh(const uint8_t* head, size_t n) override {
    if (n < 8 || std::memcmp(head, "CDF", 3) != 0) return false;
    uint32_t r = load_be32(head + 4);
    refreshed_ = true;
    if (r == numrecs_) return false;
    numrecs_ = r;
    return true;
  }

  void at_end(const Input& in) override {
    if (rec_begin_ == 0 || numrecs_ == kStreaming || frames_ == numrecs_) return;
    if (frames_ < numrecs_)
      fail("truncated NetCDF file: the header's numrecs is " + std::to_string(numrecs_) + " but the " +
               (in.follow ? "data" : "file") + " ends after " + std::to_string(frames_) + " records",
           in.offset);
    fail("the NetCDF header's numrecs is " + std::to_string(numrecs_) + " at the end of the data, but " +
             std::to_string(frames_) + " frames were decoded: the writer lowered numrecs (or stopped streaming) "
             "after those frames were read",
         in.offset);
  }

  Step next(const Input& in, FrameSink& sink, FrameData& out) override {
    if (rec_begin_ == 0) {
      if (!parsed_) {
        try {
          parse(in);
        } catch (const Incomplete&) {
          if (in.size >= kMaxHeader) fail("NetCDF header larger than 16 MiB: corrupt file", in.offset);
          return need(in.size + 4096);
        } catch (const DecodeError&) {
          // Writers that rewrite the whole file (scipy) or patch variable
          // offsets after the data leave a header that is not final yet:
          // while the writer runs, look again later; once it is done, the
          // header is what it is.
          if (in.writer_done) throw;
          natoms_ = -1;
          return need(in.size + 1);
        }
      }
      // Skip the header and the non-record data up to the first record.
      if (in.size < skip_) return need(skip_);
      rec_begin_ = skip_;
      Step s;
      s.status = Status::Skip;
      s.consumed = skip_;
      return s;
    }
    const uint64_t r = frames_;
    const bool synced = numrecs_ == kStreaming || r < numrecs_;
    if (!synced && in.writer_done && !in.follow) {
      // A finished file holds numrecs records: what follows them is not data.
      if (in.size == 0) return need(1);
      Step s;
      s.status = Status::Skip;
      s.consumed = in.size;
      return s;
    }
    if (in.size < recsize_) return need(recsize_);
    if (!synced) {
      // Wait for the writer to sync numrecs; once it is done, for the
      // reader to re-read numrecs and reach the end of the data.
      if (!in.writer_done || !in.eof) return need(in.size + 1);
      fail("the NetCDF header's numrecs is " + std::to_string(numrecs_) + " now that the writer is done, but " +
               std::to_string(r) + " frames were decoded and another complete record follows: data past numrecs "
               "is not a frame (a writer that never updated numrecs, or bytes appended to the file)",
           in.offset);
    }
    const uint8_t* rec = in.data;
    const size_t n = size_t(natoms_);
    out.positions = array(*coords_, rec, sink.positions(n), n, 1.0);
    out.velocities = vel_ ? array(*vel_, rec, sink.velocities(n), n, 1.0) : nullptr;
    out.forces = frc_ ? array(*frc_, rec, sink.forces(n), n, 4.184) : nullptr;  // kcal → kJ
    out.has_step = false;
    out.has_time = false;
    if (time_) {
      out.time = scalar(*time_, rec + time_->off);
      out.has_time = true;
    }
    out.has_box = false;
    if (len_ && ang_) {
      double l[3], a[3];
      for (int k = 0; k < 3; k++) {
        l[k] = scalar(*len_, rec + len_->off + k * type_size(len_->type));
        a[k] = scalar(*ang_, rec + ang_->off + k * type_size(ang_->type));
      }
      out.has_box = box_from_lengths_angles(l[0], l[1], l[2], a[0], a[1], a[2], out.box);
    }
    frames_++;
    Step s;
    s.status = Status::Frame;
    s.consumed = recsize_;
    return s;
  }

 private:
  static Step need(size_t n) {
    Step s;
    s.status = Status::NeedMore;
    s.need = n;
    return s;
  }
  static double scalar(const Var& v, const uint8_t* q) {
    return v.type == kDouble ? be_f64(q) : double(be_f32(q));
  }
  float* array(const Var& v, const uint8_t* rec, float* dst, size_t n, double unit) {
    const uint8_t* q = rec + v.off;
    const double s = v.scale * unit;
    const size_t m = 3 * n;
    if (v.type == kFloat) {
      if (s == 1.0) {
        for (size_t k = 0; k < m; k++) dst[k] = be_f32(q + 4 * k);
      } else {
        const float fs = static_cast<float>(s);
        for (size_t k = 0; k < m; k++) dst[k] = be_f32(q + 4 * k) * fs;
      }
    } else {
      for (size_t k = 0; k < m; k++) dst[k] = static_cast<float>(be_f64(q + 8 * k) * s);
    }
    return dst;
  }

  std::string name(Cursor& c) {
    uint32_t len = c.u32();
    if (len > 4096) fail("NetCDF name of " + std::to_string(len) + " bytes", c.base + c.pos - 4);
    c.want((len + 3) & ~3u);
    std::string s(reinterpret_cast<const char*>(c.p + c.pos), len);
    c.pos += (len + 3) & ~3u;
    return s;
  }

  // Attribute list; keeps the few values we care about.
  void attributes(Cursor& c, std::string* conventions, Var* var) {
    uint32_t tag = c.u32(), count = c.u32();
    if (tag == 0 && count == 0) return;
    if (tag != 0x0C) fail("NetCDF attribute list has tag " + std::to_string(tag), c.base + c.pos - 8);
    if (count > 100000) fail("NetCDF attribute count " + std::to_string(count), c.base + c.pos - 4);
    for (uint32_t i = 0; i < count; i++) {
      std::string nm = name(c);
      uint32_t type = c.u32(), nelems = c.u32();
      size_t ts = type_size(type);
      if (!ts) fail("NetCDF attribute " + nm + " has unknown type " + std::to_string(type), c.base + c.pos - 8);
      if (nelems > kMaxHeader) fail("NetCDF attribute " + nm + " is too long", c.base + c.pos - 4);
      size_t len = ts * nelems, padded = (len + 3) & ~size_t(3);
      c.want(padded);
      const uint8_t* v = c.p + c.pos;
      if (type == kChar) {
        std::string s(reinterpret_cast<const char*>(v), len);
        if (conventions && nm == "Conventions") *conventions = s;
        if (var && nm == "units") var->units = s;
      } else if (var && nm == "scale_factor" && nelems >= 1) {
        if (type == kFloat) var->scale = be_f32(v);
        else if (type == kDouble) var->scale = be_f64(v);
      }
      c.pos += padded;
    }
  }

  void parse(const Input& in) {
    Cursor c{in.data, in.size, 0, in.offset};
    c.want(4);
    if (std::memcmp(in.data, "\x89HDF", 4) == 0)
      fail("NetCDF-4 (HDF5) files are not supported: AMBER writes NetCDF-3; convert with `nccopy -k classic`", in.offset);
    if (std::memcmp(in.data, "CDF", 3) != 0) fail("not a NetCDF file (no CDF signature)", in.offset);
    uint8_t version = in.data[3];
    if (version == 5) fail("CDF-5 (64-bit data) NetCDF files are not supported: AMBER writes CDF-1 or CDF-2", in.offset + 3);
    if (version != 1 && version != 2) fail("unknown NetCDF version byte " + std::to_string(version), in.offset + 3);
    c.pos = 4;
    uint32_t numrecs = c.u32();
    if (!refreshed_) numrecs_ = numrecs;  // a fresher value came from refresh()
    // Dimensions.
    uint32_t tag = c.u32(), ndims = c.u32();
    std::vector<uint32_t> dimlen;
    std::vector<std::string> dimname;
    int recdim = -1;
    if (!(tag == 0 && ndims == 0)) {
      if (tag != 0x0A) fail("NetCDF dimension list has tag " + std::to_string(tag), in.offset + c.pos - 8);
      if (ndims > 1024) fail("NetCDF dimension count " + std::to_string(ndims), in.offset + c.pos - 4);
      for (uint32_t i = 0; i < ndims; i++) {
        dimname.push_back(name(c));
        uint32_t len = c.u32();
        if (len == 0) {
          if (recdim >= 0) fail("NetCDF file has two unlimited dimensions", in.offset + c.pos - 4);
          recdim = int(i);
        }
        dimlen.push_back(len);
      }
    }
    std::string conventions;
    attributes(c, &conventions, nullptr);
    // Variables.
    tag = c.u32();
    uint32_t nvars = c.u32();
    if (!(tag == 0 && nvars == 0) && tag != 0x0B)
      fail("NetCDF variable list has tag " + std::to_string(tag), in.offset + c.pos - 8);
    if (nvars > 100000) fail("NetCDF variable count " + std::to_string(nvars), in.offset + c.pos - 4);
    vars_.clear();
    vars_.reserve(nvars);
    for (uint32_t i = 0; i < nvars; i++) {
      Var v;
      v.name = name(c);
      uint32_t nd = c.u32();
      if (nd > 64) fail("NetCDF variable " + v.name + " has " + std::to_string(nd) + " dimensions", in.offset + c.pos - 4);
      for (uint32_t k = 0; k < nd; k++) {
        uint32_t d = c.u32();
        if (d >= dimlen.size()) fail("NetCDF variable " + v.name + " uses undefined dimension " + std::to_string(d), in.offset + c.pos - 4);
        v.dims.push_back(d);
      }
      attributes(c, nullptr, &v);
      v.type = c.u32();
      if (!type_size(v.type)) fail("NetCDF variable " + v.name + " has unknown type " + std::to_string(v.type), in.offset + c.pos - 4);
      c.u32();  // vsize: recomputed below (it saturates for large variables)
      v.begin = version == 1 ? c.u32() : c.u64();
      v.record = !v.dims.empty() && int(v.dims[0]) == recdim;
      for (size_t k = 1; k < v.dims.size(); k++)
        if (int(v.dims[k]) == recdim)
          fail("NetCDF variable " + v.name + " uses the unlimited dimension other than first", in.offset + c.pos);
      uint64_t size = type_size(v.type);
      for (size_t k = v.record ? 1 : 0; k < v.dims.size(); k++) {
        size *= dimlen[v.dims[k]];
        if (size > (uint64_t(1) << 40)) fail("NetCDF variable " + v.name + " is impossibly large", in.offset + c.pos);
      }
      v.size = size;
      vars_.push_back(v);
    }
    const size_t header_len = c.pos;

    if (conventions.find("AMBERRESTART") != std::string::npos)
      fail("this is an AMBER restart file (Conventions AMBERRESTART), not a trajectory", in.offset);
    auto find = [this](const char* nm) -> Var* {
      for (auto& v : vars_)
        if (v.name == nm) return &v;
      return nullptr;
    };
    coords_ = find("coordinates");
    if (!coords_) fail("no 'coordinates' variable: not an AMBER NetCDF trajectory (Conventions \"" + conventions + "\")", in.offset);
    auto check_xyz = [&](Var* v) {
      if (!v) return;
      if (!v->record || v->dims.size() != 3 || dimlen[v->dims[2]] != 3 || (v->type != kFloat && v->type != kDouble))
        fail("NetCDF variable " + v->name + " is not float [frame][atom][3]", in.offset);
    };
    check_xyz(coords_);
    check_natoms(int64_t(dimlen[coords_->dims[1]]), in.offset, "the NetCDF atom dimension");
    vel_ = find("velocities");
    frc_ = find("forces");
    check_xyz(vel_);
    check_xyz(frc_);
    if ((vel_ && vel_->dims[1] != coords_->dims[1]) || (frc_ && frc_->dims[1] != coords_->dims[1]))
      fail("NetCDF velocities or forces have another atom dimension than coordinates", in.offset);
    time_ = find("time");
    if (time_ && (!time_->record || time_->dims.size() != 1 || (time_->type != kFloat && time_->type != kDouble)))
      time_ = nullptr;
    len_ = find("cell_lengths");
    ang_ = find("cell_angles");
    for (Var** cv : {&len_, &ang_}) {
      Var* v = *cv;
      if (v && (!v->record || v->dims.size() != 2 || dimlen[v->dims[1]] != 3 || (v->type != kFloat && v->type != kDouble)))
        fail("NetCDF variable " + v->name + " is not [frame][3]", in.offset);
    }

    // Record layout: one record holds every record variable, each padded to
    // 4 bytes unless it is the only one.
    size_t nrec = 0;
    uint64_t first = UINT64_MAX, nonrec_end = header_len;
    for (auto& v : vars_) {
      if (v.begin < header_len) fail("NetCDF variable " + v.name + " begins inside the header", in.offset);
      if (v.record) {
        nrec++;
        first = std::min(first, v.begin);
      } else {
        nonrec_end = std::max<uint64_t>(nonrec_end, v.begin + v.size);
      }
    }
    uint64_t recsize = 0;
    for (auto& v : vars_)
      if (v.record) recsize += nrec == 1 ? v.size : (v.size + 3) & ~uint64_t(3);
    std::vector<const Var*> recs;
    for (auto& v : vars_) {
      if (!v.record) continue;
      uint64_t off = v.begin - first;
      if (off + v.size > recsize) fail("NetCDF record variable " + v.name + " lies outside the record", in.offset);
      v.off = size_t(off);
      recs.push_back(&v);
    }
    // Record variables must not overlap. (A writer with no record yet may
    // give them all the same offset: scipy does, until the first record.)
    std::sort(recs.begin(), recs.end(), [](const Var* a, const Var* b) { return a->off < b->off; });
    for (size_t k = 1; k < recs.size(); k++)
      if (recs[k]->off < recs[k - 1]->off + recs[k - 1]->size)
        fail(numrecs_ == 0 ? "NetCDF file holds no frames yet (numrecs 0, record variables not laid out)"
                           : "NetCDF record variables " + recs[k - 1]->name + " and " + recs[k]->name + " overlap",
             in.offset);
    if (first > nonrec_end + (64u << 20))
      fail("NetCDF records begin at byte " + std::to_string(first) + ", far past the header: corrupt file", in.offset);
    if (recsize > (uint64_t(1) << 36)) fail("NetCDF record of " + std::to_string(recsize) + " bytes", in.offset);
    recsize_ = size_t(recsize);
    skip_ = size_t(first);
    if (recsize_ == 0) fail("NetCDF file has no record data", in.offset);
    // Vars were copied by value into vars_; pointers into it stay valid from here on.
    parsed_ = true;
  }

  std::vector<Var> vars_;
  Var* coords_ = nullptr;
  Var* vel_ = nullptr;
  Var* frc_ = nullptr;
  Var* time_ = nullptr;
  Var* len_ = nullptr;
  Var* ang_ = nullptr;
  bool parsed_ = false;
  bool refreshed_ = false;
  uint32_t numrecs_ = 0;
  size_t skip_ = 0;
  size_t rec_begin_ = 0;
  size_t recsize_ = 0;
};

}  // namespace

std::unique_ptr<Decoder> make_netcdf_decoder() { return std::unique_ptr<Decoder>(new NetCdfDecoder()); }

}  // namespace formats
}  // namespace westream
