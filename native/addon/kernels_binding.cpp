// Analysis kernel bindings: `kernels` on the addon's exports.
//
// Every function takes typed arrays as they are (frame views into the ring
// included: no copy), checks their types and lengths, and leaves index
// bounds to the kernels, which check every index against the frame's atom
// count. qcpFit copies its reference and selection once and checks them
// then, so that each frame passes its positions alone. Kernel exceptions
// become JS RangeError/TypeError/Error.
#include <napi.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "bindings.h"
#include "bounds.h"
#include "com_rg.h"
#include "distances.h"
#include "qcp.h"
#include "simd.h"
#include "stream.h"

namespace westream {

namespace {

namespace k = westream::kernels;

template <class T>
struct View {
  T* data = nullptr;
  std::size_t length = 0;
  bool present = false;
};

template <class T>
constexpr napi_typedarray_type kind();
template <>
constexpr napi_typedarray_type kind<float>() { return napi_float32_array; }
template <>
constexpr napi_typedarray_type kind<double>() { return napi_float64_array; }
template <>
constexpr napi_typedarray_type kind<int32_t>() { return napi_int32_array; }
template <>
constexpr napi_typedarray_type kind<uint8_t>() { return napi_uint8_array; }

template <class T>
const char* kind_name() {
  switch (kind<T>()) {
    case napi_float32_array: return "Float32Array";
    case napi_float64_array: return "Float64Array";
    case napi_int32_array: return "Int32Array";
    default: return "Uint8Array";
  }
}

/** A typed array argument (no copy). `optional`: null/undefined gives an absent view. */
template <class T>
View<T> arg(const Napi::CallbackInfo& info, std::size_t i, const char* name, bool optional = false) {
  View<T> v;
  napi_value value = info[i];
  napi_typedarray_type type;
  void* data = nullptr;
  napi_value buffer;
  std::size_t offset = 0;
  // One N-API call on the hot path; the checks below only run on failure.
  if (napi_get_typedarray_info(info.Env(), value, &type, &v.length, &data, &buffer, &offset) != napi_ok) {
    napi_valuetype vt = napi_undefined;
    napi_typeof(info.Env(), value, &vt);
    if (optional && (vt == napi_null || vt == napi_undefined)) {
      v.length = 0;
      return v;
    }
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a " + kind_name<T>());
  }
  if (type != kind<T>()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a " + kind_name<T>());
  if (v.length > 0 && data == nullptr) throw Napi::TypeError::New(info.Env(), std::string(name) + " is detached");
  v.data = static_cast<T*>(data);
  v.present = true;
  return v;
}

std::size_t count(const Napi::CallbackInfo& info, std::size_t i, const char* name) {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a number");
  double d = info[i].As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d != static_cast<double>(static_cast<std::size_t>(d)))
    throw Napi::RangeError::New(info.Env(), std::string(name) + " must be a non-negative integer");
  return static_cast<std::size_t>(d);
}

View<float> positions_arg(const Napi::CallbackInfo& info, std::size_t i, const char* name = "positions") {
  View<float> p = arg<float>(info, i, name);
  if (p.length % 3 != 0) throw Napi::RangeError::New(info.Env(), std::string(name) + " length must be a multiple of 3");
  return p;
}

const float* box_arg(const Napi::CallbackInfo& info, std::size_t i) {
  View<float> b = arg<float>(info, i, "box", true);
  if (!b.present) return nullptr;
  if (b.length != 6) throw Napi::RangeError::New(info.Env(), "box must have 6 entries (ax bx by cx cy cz)");
  return b.data;
}

/** Group from (positions, index|null, n): with an index, n must equal its length. */
k::Group group_arg(const Napi::CallbackInfo& info, std::size_t i, const char* name) {
  View<float> p = positions_arg(info, i);
  View<int32_t> idx = arg<int32_t>(info, i + 1, name, true);
  std::size_t n = count(info, i + 2, "n");
  if (idx.present && idx.length != n)
    throw Napi::RangeError::New(info.Env(), std::string(name) + " has " + std::to_string(idx.length) + " entries, n is " + std::to_string(n));
  return k::Group{p.data, p.length / 3, idx.present ? idx.data : nullptr, n};
}

template <class F>
auto guarded(const Napi::CallbackInfo& info, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::out_of_range& e) {
    throw Napi::RangeError::New(info.Env(), e.what());
  } catch (const std::invalid_argument& e) {
    throw Napi::TypeError::New(info.Env(), e.what());
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
}

/**
 * A reference prepared once for qcpFit: the centred reference atoms (x, y and
 * z each padded to 16 floats and starting a cache line), their sums, the
 * selection and the predicted rotation, the last frame's (so that a
 * trajectory's frames in any orientation take one pass).
 */
struct QcpFit {
  std::unique_ptr<float, void (*)(void*)> xyz{nullptr, std::free};
  std::size_t bytes = 0;  // reported to the GC as external memory
  std::vector<float> weights;
  std::vector<int32_t> index;  // empty: the frame atoms first..first+n-1
  std::size_t first = 0;
  std::size_t atoms = 0;  // the frame atoms the selection needs (its largest atom + 1)
  k::QcpReference ref{};
  double predictor[5] = {1, 0, 0, 0, 0};
};

// fit(positions Float32Array[, transform Float64Array(≥ 12)]) → rmsd; transform receives the rotation
// (row-major, mobile onto reference) and the mobile centre. One typed array per frame: everything else
// was checked and prepared by qcpFit.
Napi::Value QcpFitCall(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    QcpFit& f = *static_cast<QcpFit*>(info.Data());
    View<float> p = positions_arg(info, 0);
    const std::size_t natoms = p.length / 3;
    double* transform = nullptr;
    if (info.Length() > 1 && !info[1].IsUndefined()) {
      View<double> t = arg<double>(info, 1, "transform");
      if (t.length < 12) throw Napi::RangeError::New(info.Env(), "transform must have 12 entries (rotation, centre)");
      transform = t.data;
    }
    if (natoms < f.atoms) {
      if (f.index.empty())
        throw Napi::RangeError::New(info.Env(), "qcp: atom index " + std::to_string(f.atoms - 1) + " is outside the frame's " + std::to_string(natoms) + " atoms");
      k::check_indices(f.index.data(), f.index.size(), natoms, "qcp");
    }
    k::QcpArgs a{};
    a.positions = p.data + 3 * f.first;
    a.natoms = natoms - f.first;
    a.index = f.index.empty() ? nullptr : f.index.data();
    a.max_index = f.index.empty() ? -1 : int32_t(f.atoms - 1);
    a.weights = f.weights.empty() ? nullptr : f.weights.data();
    a.ref = f.ref;
    a.rotation = transform;
    a.center = transform ? transform + 9 : nullptr;
    a.predictor = f.predictor;
    return Napi::Number::New(info.Env(), k::qcp_rmsd(a));
  });
}

// qcpFit(ref Float32Array(3n: x..., y..., z..., centred), weights|null, index|null) → fit(positions[, transform]):
// copies the reference, sums it (from the stored floats, so that the kernel's E0 - λ cancels exactly) and
// takes the selection (null: atoms 0..n-1; a contiguous run is read without an index).
Napi::Value QcpFitNew(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    View<float> ref = arg<float>(info, 0, "ref");
    View<float> w = arg<float>(info, 1, "weights", true);
    View<int32_t> idx = arg<int32_t>(info, 2, "index", true);
    if (ref.length % 3) throw Napi::RangeError::New(info.Env(), "ref must hold x, y and z arrays of equal length");
    const std::size_t n = ref.length / 3;
    if (n == 0) throw Napi::TypeError::New(info.Env(), "qcpFit: the selection is empty");
    if (w.present && w.length != n) throw Napi::RangeError::New(info.Env(), "weights must have one entry per reference atom");
    if (idx.present && idx.length != n)
      throw Napi::RangeError::New(info.Env(), "index has " + std::to_string(idx.length) + " atoms, the reference " + std::to_string(n));
    auto f = std::make_unique<QcpFit>();
    const std::size_t stride = (n + 15) / 16 * 16;
    f->bytes = 3 * stride * sizeof(float);
    f->xyz.reset(static_cast<float*>(std::aligned_alloc(64, f->bytes)));
    if (!f->xyz) throw std::bad_alloc();
    float* x = f->xyz.get();
    std::fill(x, x + 3 * stride, 0.0f);
    for (int c = 0; c < 3; ++c) std::copy(ref.data + c * n, ref.data + (c + 1) * n, x + c * stride);
    if (w.present) f->weights.assign(w.data, w.data + n);
    if (idx.present) {
      k::check_indices(idx.data, n, std::size_t(INT32_MAX), "qcpFit");  // no negative index
      bool run = true;
      for (std::size_t i = 1; i < n && run; ++i) run = int64_t(idx.data[i]) == int64_t(idx.data[0]) + int64_t(i);
      if (run) {
        f->first = std::size_t(idx.data[0]);
        f->atoms = f->first + n;
      } else {
        f->index.assign(idx.data, idx.data + n);
        f->atoms = std::size_t(*std::max_element(idx.data, idx.data + n)) + 1;
      }
    } else {
      f->atoms = n;
    }
    f->ref = k::qcp_reference(x, x + stride, x + 2 * stride, n, w.present ? w.data : nullptr);
    if (!(f->ref.wsum > 0)) throw Napi::TypeError::New(info.Env(), "qcpFit: the weights must sum to a positive number");
    f->bytes += (f->weights.size() + f->index.size()) * 4;
    Napi::Function fit = Napi::Function::New<QcpFitCall>(info.Env(), "qcpFit", f.get());
    Napi::MemoryManagement::AdjustExternalMemory(info.Env(), int64_t(f->bytes));
    fit.AddFinalizer(
        [](Napi::Env env, QcpFit* data) {
          Napi::MemoryManagement::AdjustExternalMemory(env, -int64_t(data->bytes));
          delete data;
        },
        f.release());
    return fit;
  });
}

// qcpCounters() → { calls, floatPasses, doublePasses, refinements }: what the QCP kernel did in this process.
Napi::Value QcpCountersJs(const Napi::CallbackInfo& info) {
  const k::QcpCounters c = k::qcp_counters();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("calls", Napi::Number::New(info.Env(), double(c.calls)));
  o.Set("floatPasses", Napi::Number::New(info.Env(), double(c.float_passes)));
  o.Set("doublePasses", Napi::Number::New(info.Env(), double(c.double_passes)));
  o.Set("refinements", Napi::Number::New(info.Env(), double(c.refinements)));
  return o;
}

// transformedRmsd(positions, index|null, weights|null, ref Float32Array(3n), transform Float64Array(≥ 12: rotation 9, centre 3), offset)
// → sqrt(Σ w |R (m - c) - r|² / Σ w), reading rotation and centre from transform[offset..offset+11].
Napi::Value TransformedRmsd(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    View<float> p = positions_arg(info, 0);
    View<int32_t> idx = arg<int32_t>(info, 1, "index", true);
    View<float> w = arg<float>(info, 2, "weights", true);
    View<float> ref = arg<float>(info, 3, "ref");
    View<double> t = arg<double>(info, 4, "transform");
    const std::size_t offset = count(info, 5, "offset");
    if (ref.length % 3) throw Napi::RangeError::New(info.Env(), "ref must hold x, y and z arrays of equal length");
    const std::size_t n = ref.length / 3;
    if (idx.present && idx.length != n) throw Napi::RangeError::New(info.Env(), "index must have one entry per reference atom");
    if (w.present && w.length != n) throw Napi::RangeError::New(info.Env(), "weights must have one entry per reference atom");
    if (t.length < offset + 12) throw Napi::RangeError::New(info.Env(), "transform must have 12 entries (rotation, centre) from offset");
    k::TransformedRmsdArgs a{p.data, p.length / 3, idx.present ? idx.data : nullptr, n, w.present ? w.data : nullptr,
                             ref.data, ref.data + n, ref.data + 2 * n, t.data + offset, t.data + offset + 9};
    return Napi::Number::New(info.Env(), k::transformed_rmsd(a));
  });
}

// centerRg(positions, index|null, n, weights|null, out Float64Array(4)) → rg; out = cx cy cz rg
Napi::Value CenterRg(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    k::Group g = group_arg(info, 0, "index");
    View<float> w = arg<float>(info, 3, "weights", true);
    View<double> out = arg<double>(info, 4, "out");
    if (w.present && w.length != g.n) throw Napi::RangeError::New(info.Env(), "weights must have one entry per atom of the group");
    if (out.length < 4) throw Napi::RangeError::New(info.Env(), "out must have 4 entries");
    k::CenterResult r = k::center_rg(k::CenterArgs{g.positions, g.natoms, g.index, g.n, w.present ? w.data : nullptr});
    out.data[0] = r.center[0], out.data[1] = r.center[1], out.data[2] = r.center[2], out.data[3] = r.rg;
    return Napi::Number::New(info.Env(), r.rg);
  });
}

// distanceArray(posA, indexA|null, nA, posB, indexB|null, nB, box|null, out Float32Array(nA*nB))
Napi::Value DistanceArray(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    k::Group a = group_arg(info, 0, "indexA");
    k::Group b = group_arg(info, 3, "indexB");
    const float* box = box_arg(info, 6);
    View<float> out = arg<float>(info, 7, "out");
    if (out.length < a.n * b.n) throw Napi::RangeError::New(info.Env(), "out must hold nA * nB = " + std::to_string(a.n * b.n) + " floats");
    k::distance_array(a, b, box, out.data);
    return info.Env().Undefined();
  });
}

// distanceStats(posA, indexA|null, nA, posB, indexB|null, nB, box|null, cutoff, out Float64Array(2)) → out = [min, count]
Napi::Value DistanceStats(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    k::Group a = group_arg(info, 0, "indexA");
    k::Group b = group_arg(info, 3, "indexB");
    const float* box = box_arg(info, 6);
    if (!info[7].IsNumber()) throw Napi::TypeError::New(info.Env(), "cutoff must be a number");
    const double cutoff = info[7].As<Napi::Number>().DoubleValue();
    View<double> out = arg<double>(info, 8, "out");
    if (out.length < 2) throw Napi::RangeError::New(info.Env(), "out must have 2 entries");
    k::DistanceStats s = k::distance_stats(a, b, box, cutoff);
    out.data[0] = s.min;
    out.data[1] = static_cast<double>(s.within);
    return info.Env().Undefined();
  });
}

// pairDistances(positions, pairs Int32Array(2k), box|null, out Float64Array(k))
Napi::Value PairDistances(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    View<float> p = positions_arg(info, 0);
    View<int32_t> pairs = arg<int32_t>(info, 1, "pairs");
    const float* box = box_arg(info, 2);
    View<double> out = arg<double>(info, 3, "out");
    if (pairs.length % 2) throw Napi::RangeError::New(info.Env(), "pairs must hold index pairs (even length)");
    if (out.length < pairs.length / 2) throw Napi::RangeError::New(info.Env(), "out must have one entry per pair");
    k::pair_distances(p.data, p.length / 3, pairs.data, pairs.length / 2, box, out.data);
    return info.Env().Undefined();
  });
}

// withinMask(positions, refIndex|null, nRef, candIndex|null, nCand, box|null, cutoff, mask Uint8Array(natoms))
Napi::Value WithinMask(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    View<float> p = positions_arg(info, 0);
    View<int32_t> ri = arg<int32_t>(info, 1, "refIndex", true);
    std::size_t nr = count(info, 2, "nRef");
    View<int32_t> ci = arg<int32_t>(info, 3, "candidateIndex", true);
    std::size_t nc = count(info, 4, "nCandidates");
    const float* box = box_arg(info, 5);
    if (!info[6].IsNumber()) throw Napi::TypeError::New(info.Env(), "cutoff must be a number");
    const double cutoff = info[6].As<Napi::Number>().DoubleValue();
    View<uint8_t> mask = arg<uint8_t>(info, 7, "mask");
    const std::size_t natoms = p.length / 3;
    if (mask.length < natoms) throw Napi::RangeError::New(info.Env(), "mask must have one entry per atom");
    if ((ri.present && ri.length != nr) || (ci.present && ci.length != nc))
      throw Napi::RangeError::New(info.Env(), "index lengths do not match their counts");
    k::within_mask(k::Group{p.data, natoms, ri.present ? ri.data : nullptr, nr}, k::Group{p.data, natoms, ci.present ? ci.data : nullptr, nc},
                   box, cutoff, mask.data);
    return info.Env().Undefined();
  });
}

// streamSum(a Float32Array, b Float32Array|null, parts = 1) → the sum of all their floats, read once in
// one pass, b as `parts` equal arrays side by side (the read-bandwidth floor of the analysis benchmark).
Napi::Value StreamSum(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    View<float> a = arg<float>(info, 0, "a");
    View<float> b = arg<float>(info, 1, "b", true);
    const std::size_t parts = info.Length() > 2 && !info[2].IsUndefined() ? count(info, 2, "parts") : 1;
    if (parts < 1 || parts > 3 || b.length % parts) throw Napi::RangeError::New(info.Env(), "parts must be 1, 2 or 3 and divide b's length");
    return Napi::Number::New(info.Env(), k::stream_sum(a.data, a.length, b.present ? b.data : nullptr, b.length, parts));
  });
}

// alignment(a Float32Array) → the byte address of a[0] modulo 64 (so that JS can place arrays on cache lines).
Napi::Value Alignment(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    View<float> a = arg<float>(info, 0, "a");
    return Napi::Number::New(info.Env(), double(reinterpret_cast<std::uintptr_t>(a.data) % 64));
  });
}

Napi::Value IsaName(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), k::isa_name(k::isa())); }

Napi::Value SetIsa(const Napi::CallbackInfo& info) {
  std::string s = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  if (s != "avx512" && s != "avx2" && s != "baseline") throw Napi::TypeError::New(info.Env(), "isa must be avx512, avx2 or baseline");
  k::force_isa(s == "avx512" ? k::Isa::Avx512 : s == "avx2" ? k::Isa::Avx2 : k::Isa::Baseline);
  return Napi::String::New(info.Env(), k::isa_name(k::isa()));
}

}  // namespace

void InitKernels(Napi::Env env, Napi::Object exports) {
  Napi::Object kernels = Napi::Object::New(env);
  kernels.Set("qcpFit", Napi::Function::New(env, QcpFitNew, "qcpFit"));
  kernels.Set("qcpCounters", Napi::Function::New(env, QcpCountersJs, "qcpCounters"));
  kernels.Set("transformedRmsd", Napi::Function::New(env, TransformedRmsd, "transformedRmsd"));
  kernels.Set("centerRg", Napi::Function::New(env, CenterRg, "centerRg"));
  kernels.Set("distanceArray", Napi::Function::New(env, DistanceArray, "distanceArray"));
  kernels.Set("distanceStats", Napi::Function::New(env, DistanceStats, "distanceStats"));
  kernels.Set("pairDistances", Napi::Function::New(env, PairDistances, "pairDistances"));
  kernels.Set("withinMask", Napi::Function::New(env, WithinMask, "withinMask"));
  kernels.Set("streamSum", Napi::Function::New(env, StreamSum, "streamSum"));
  kernels.Set("alignment", Napi::Function::New(env, Alignment, "alignment"));
  kernels.Set("isa", Napi::Function::New(env, IsaName, "isa"));
  kernels.Set("setIsa", Napi::Function::New(env, SetIsa, "setIsa"));
  exports.Set("kernels", kernels);
}

}  // namespace westream
