// Analysis kernel bindings: `kernels` on the addon's exports.
//
// Every function takes typed arrays as they are (frame views into the ring
// included: no copy), checks their types and lengths, and leaves index
// bounds to the kernels, which check every index against the frame's atom
// count. Kernel exceptions become JS RangeError/TypeError/Error.
#include <napi.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "bindings.h"
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

// The QCP state (Float64Array(64)) of a prepared reference: its sums, room
// for the rotation and the mobile centre, the sums up to each checkpoint
// (11 each: wsum, w2sum, rsum 3, syy 6), and the prediction (in and out: the
// last frame's rotation as a unit quaternion, and its RMSD).
constexpr std::size_t QCP_GB = 0, QCP_WSUM = 1, QCP_RSUM = 2, QCP_ROTATION = 5, QCP_CENTER = 14, QCP_SYY = 17, QCP_W2SUM = 23,
                      QCP_SHIFT = 24, QCP_N = 25, QCP_PREFIX = 26, QCP_PREFIX_SIZE = 11,
                      QCP_PREDICTOR = QCP_PREFIX + QCP_PREFIX_SIZE * k::QCP_CHECKPOINTS, QCP_STATE = QCP_PREDICTOR + 5;
static_assert(QCP_STATE == 64, "the QCP state layout is documented as 64 entries (native-kernels.ts)");

/** The reference arrays: x, y and z of `stride` floats each (stride ≥ n). */
void qcp_ref_arrays(const Napi::CallbackInfo& info, const View<float>& ref, std::size_t n, const float** x, const float** y, const float** z) {
  if (ref.length % 3) throw Napi::RangeError::New(info.Env(), "ref must hold x, y and z arrays of equal length");
  const std::size_t stride = ref.length / 3;
  if (stride < n) throw Napi::RangeError::New(info.Env(), "ref holds " + std::to_string(stride) + " atoms, the selection " + std::to_string(n));
  *x = ref.data, *y = ref.data + stride, *z = ref.data + 2 * stride;
}

// qcpPrepare(ref Float32Array(3 stride: x..., y..., z..., centred), n, weights|null, state Float64Array(64))
// fills the state's sums (gb, wsum, Σ w r, Σ w r rᵀ, Σ w², shift atom, n, the same up to each checkpoint)
// from the stored floats and sets the predicted rotation to the identity.
Napi::Value QcpPrepare(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    View<float> ref = arg<float>(info, 0, "ref");
    const std::size_t n = count(info, 1, "n");
    View<float> w = arg<float>(info, 2, "weights", true);
    View<double> st = arg<double>(info, 3, "state");
    if (n == 0) throw Napi::TypeError::New(info.Env(), "qcpPrepare: the selection is empty");
    if (w.present && w.length != n) throw Napi::RangeError::New(info.Env(), "weights must have one entry per reference atom");
    if (st.length < QCP_STATE) throw Napi::RangeError::New(info.Env(), "state must have 64 entries");
    const float *x, *y, *z;
    qcp_ref_arrays(info, ref, n, &x, &y, &z);
    const k::QcpReference r = k::qcp_reference(x, y, z, n, w.present ? w.data : nullptr);
    double* s = st.data;
    s[QCP_GB] = r.gb, s[QCP_WSUM] = r.wsum;
    for (int c = 0; c < 3; ++c) s[QCP_RSUM + c] = r.rsum[c];
    for (int c = 0; c < 6; ++c) s[QCP_SYY + c] = r.syy[c];
    s[QCP_W2SUM] = r.w2sum, s[QCP_SHIFT] = double(r.shift), s[QCP_N] = double(n);
    for (int j = 0; j < k::QCP_CHECKPOINTS; ++j) {
      double* p = s + QCP_PREFIX + QCP_PREFIX_SIZE * j;
      const k::QcpPrefix& q = r.prefix[j];
      p[0] = q.wsum, p[1] = q.w2sum;
      for (int c = 0; c < 3; ++c) p[2 + c] = q.rsum[c];
      for (int c = 0; c < 6; ++c) p[5 + c] = q.syy[c];
    }
    s[QCP_PREDICTOR] = 1, s[QCP_PREDICTOR + 1] = s[QCP_PREDICTOR + 2] = s[QCP_PREDICTOR + 3] = s[QCP_PREDICTOR + 4] = 0;
    return info.Env().Undefined();
  });
}

// qcp(positions, index|null, weights|null, ref Float32Array(3 stride: x..., y..., z...), state Float64Array(64) from qcpPrepare,
//     rotation: boolean) → rmsd. With rotation = true the kernel writes the rotation and the mobile centre into state[5..16].
// It always reads the prediction from state[59..63] (rotation quaternion, RMSD) and writes this frame's there.
Napi::Value Qcp(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    View<float> p = positions_arg(info, 0);
    View<int32_t> idx = arg<int32_t>(info, 1, "index", true);
    View<float> w = arg<float>(info, 2, "weights", true);
    View<float> ref = arg<float>(info, 3, "ref");
    View<double> st = arg<double>(info, 4, "state");
    const bool rotation = info[5].IsBoolean() && info[5].As<Napi::Boolean>().Value();
    if (st.length < QCP_STATE) throw Napi::RangeError::New(info.Env(), "state must have 64 entries (from qcpPrepare)");
    const double* s = st.data;
    const double nd = s[QCP_N];
    if (!(nd >= 1) || nd != double(std::size_t(nd))) throw Napi::TypeError::New(info.Env(), "state holds no prepared reference (qcpPrepare)");
    const std::size_t n = std::size_t(nd);
    const float *x, *y, *z;
    qcp_ref_arrays(info, ref, n, &x, &y, &z);
    if (idx.present && idx.length != n)
      throw Napi::RangeError::New(info.Env(), "index has " + std::to_string(idx.length) + " atoms, the reference " + std::to_string(n));
    if (w.present && w.length != n) throw Napi::RangeError::New(info.Env(), "weights must have one entry per reference atom");
    k::QcpArgs a{};
    a.positions = p.data;
    a.natoms = p.length / 3;
    a.index = idx.present ? idx.data : nullptr;
    a.weights = w.present ? w.data : nullptr;
    a.ref = k::QcpReference{x, y, z, n, s[QCP_GB], s[QCP_WSUM], {s[QCP_RSUM], s[QCP_RSUM + 1], s[QCP_RSUM + 2]},
                            {s[QCP_SYY], s[QCP_SYY + 1], s[QCP_SYY + 2], s[QCP_SYY + 3], s[QCP_SYY + 4], s[QCP_SYY + 5]},
                            s[QCP_W2SUM], s[QCP_SHIFT] >= 0 && s[QCP_SHIFT] < nd ? std::size_t(s[QCP_SHIFT]) : 0, {}};  // prefix: filled below
    for (int j = 0; j < k::QCP_CHECKPOINTS; ++j) {
      const double* q = s + QCP_PREFIX + QCP_PREFIX_SIZE * j;
      a.ref.prefix[j] = k::QcpPrefix{q[0], q[1], {q[2], q[3], q[4]}, {q[5], q[6], q[7], q[8], q[9], q[10]}};
    }
    a.rotation = rotation ? st.data + QCP_ROTATION : nullptr;
    a.center = rotation ? st.data + QCP_CENTER : nullptr;
    a.predictor = st.data + QCP_PREDICTOR;
    return Napi::Number::New(info.Env(), k::qcp_rmsd(a));
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
  kernels.Set("qcp", Napi::Function::New(env, Qcp, "qcp"));
  kernels.Set("qcpPrepare", Napi::Function::New(env, QcpPrepare, "qcpPrepare"));
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
