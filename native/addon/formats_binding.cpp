// Trajectory decoder bindings: JS class `TrajectoryReader` over
// westream::formats::TrajectoryReader (native/formats/reader.h).
//
// Frames are decoded straight into V8-owned ArrayBuffers (allocated once,
// when the atom count or a new array first appears), so JS views them
// without a copy and without external buffers; metadata goes into a small
// Float64Array. Readiness comes from libuv: uv_poll on a FIFO's fd, or on an
// inotify fd watching a regular file.
#include <errno.h>
#include <napi.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include <memory>
#include <string>

#include "bindings.h"
#include "reader.h"

namespace westream {

namespace {

using formats::FrameData;
using formats::TrajectoryReader;

// meta[] slots, shared with src/sources/trajectory.ts.
enum Meta { kNatoms = 0, kStep, kTime, kFlags, kBuffers, kBytesRead, kFrames, kOffset, kMetaLen };
enum Flags { kHasStep = 1, kHasTime = 2, kHasBox = 4, kHasVelocities = 8, kHasForces = 16 };

// Hands the decoder V8-owned arrays (see file comment).
class JsSink : public formats::FrameSink {
 public:
  JsSink() = default;
  float* positions(size_t n) override { return grab(0, n); }
  float* velocities(size_t n) override { return grab(1, n); }
  float* forces(size_t n) override { return grab(2, n); }
  Napi::Env* env = nullptr;
  Napi::Reference<Napi::ArrayBuffer> refs[3];
  float* data[3] = {nullptr, nullptr, nullptr};
  size_t count[3] = {0, 0, 0};
  double version = 0;

 private:
  float* grab(int k, size_t n) {
    if (data[k] && count[k] == n) {
      // Detached by user code (transfer)? Then allocate anew.
      if (!refs[k].Value().IsDetached()) return data[k];
    }
    Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(*env, 3 * n * sizeof(float));
    refs[k] = Napi::Persistent(ab);
    data[k] = static_cast<float*>(ab.Data());
    count[k] = n;
    version++;
    return data[k];
  }
};

class ReaderBinding : public Napi::ObjectWrap<ReaderBinding> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "TrajectoryReader",
                       {
                           InstanceMethod<&ReaderBinding::Next>("next"),
                           InstanceMethod<&ReaderBinding::Finish>("finish"),
                           InstanceMethod<&ReaderBinding::Watch>("watch"),
                           InstanceMethod<&ReaderBinding::Close>("close"),
                           InstanceMethod<&ReaderBinding::Buffers>("buffers"),
                           InstanceAccessor<&ReaderBinding::FormatName>("format"),
                           InstanceAccessor<&ReaderBinding::IsFifo>("fifo"),
                       });
  }

  // new TrajectoryReader(path, { format?, follow?, fifoRdwr?, tee?, discardConsumed?, lammpsUnits? })
  explicit ReaderBinding(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ReaderBinding>(info), sink_() {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "TrajectoryReader(path, options): path must be a string");
    formats::ReaderOptions o;
    o.path = info[0].As<Napi::String>().Utf8Value();
    if (info.Length() > 1 && info[1].IsObject()) {
      Napi::Object opt = info[1].As<Napi::Object>();
      Napi::Value f = opt.Get("format");
      if (f.IsString()) {
        std::string name = f.As<Napi::String>().Utf8Value();
        if (!name.empty()) {
          o.format = formats::format_from_name(name);
          if (o.format == formats::Format::Unknown)
            throw Napi::Error::New(env, "unknown trajectory format \"" + name + "\": use xtc, trr, dcd, netcdf or lammpsdump");
        }
      }
      o.follow = opt.Get("follow").ToBoolean().Value();
      o.fifo_rdwr = opt.Get("fifoRdwr").ToBoolean().Value();
      o.discard_consumed = opt.Get("discardConsumed").ToBoolean().Value();
      Napi::Value tee = opt.Get("tee");
      if (tee.IsString()) o.tee_path = tee.As<Napi::String>().Utf8Value();
      Napi::Value units = opt.Get("lammpsUnits");
      if (units.IsString()) o.lammps_units = units.As<Napi::String>().Utf8Value();
    }
    try {
      reader_.reset(new TrajectoryReader(o));
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, e.what());
    }
    Napi::Float64Array meta = Napi::Float64Array::New(env, kMetaLen);
    meta_ref_ = Napi::Persistent(meta);
    meta_ = meta.Data();
    Napi::Float32Array box = Napi::Float32Array::New(env, 6);
    box_ref_ = Napi::Persistent(box);
    box_ = box.Data();
    info.This().As<Napi::Object>().Set("meta", meta);
    info.This().As<Napi::Object>().Set("box", box);
  }

  ~ReaderBinding() override { Stop(); }

 private:
  // 0: nothing now (wait), 1: a frame (meta, box, buffers updated), 2: the end.
  Napi::Value Next(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!reader_) throw Napi::Error::New(env, "trajectory reader is closed");
    Napi::Env e = env;
    sink_.env = &e;
    FrameData out;
    TrajectoryReader::Result r;
    try {
      r = reader_->next(sink_, out);
    } catch (const std::exception& ex) {
      sink_.env = nullptr;
      throw Napi::Error::New(env, ex.what());
    }
    sink_.env = nullptr;
    meta_[kBytesRead] = double(reader_->bytes_read());
    meta_[kFrames] = double(reader_->frames());
    meta_[kOffset] = double(reader_->bytes_decoded());
    if (r != TrajectoryReader::Result::Frame) return Napi::Number::New(env, r == TrajectoryReader::Result::Wait ? 0 : 2);
    meta_[kNatoms] = double(reader_->natoms());
    meta_[kStep] = double(out.step);
    meta_[kTime] = out.time;
    int flags = (out.has_step ? kHasStep : 0) | (out.has_time ? kHasTime : 0) | (out.has_box ? kHasBox : 0) |
                (out.velocities ? kHasVelocities : 0) | (out.forces ? kHasForces : 0);
    meta_[kFlags] = flags;
    meta_[kBuffers] = sink_.version;
    for (int k = 0; k < 6; k++) box_[k] = out.has_box ? out.box[k] : 0.0f;
    return Napi::Number::New(env, 1);
  }

  // { positions, velocities, forces }: the ArrayBuffers frames are decoded into.
  Napi::Value Buffers(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    const char* names[3] = {"positions", "velocities", "forces"};
    for (int k = 0; k < 3; k++)
      o.Set(names[k], sink_.data[k] ? Napi::Value(sink_.refs[k].Value()) : env.Undefined());
    return o;
  }

  Napi::Value Finish(const Napi::CallbackInfo& info) {
    if (reader_) reader_->finish();
    return info.Env().Undefined();
  }

  Napi::Value FormatName(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), reader_ ? formats::format_name(reader_->format()) : "unknown");
  }
  Napi::Value IsFifo(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), reader_ && reader_->is_fifo());
  }

  // watch(callback): calls back whenever the file or pipe may have new data.
  // Returns false when no watch is possible (the caller then polls).
  Napi::Value Watch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!reader_ || poll_) return Napi::Boolean::New(env, false);
    if (info.Length() < 1 || !info[0].IsFunction()) throw Napi::TypeError::New(env, "watch(callback)");
    int fd = -1;
    if (reader_->is_fifo()) {
      fd = reader_->fd();
    } else {
      inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
      if (inotify_fd_ < 0) return Napi::Boolean::New(env, false);
      if (inotify_add_watch(inotify_fd_, reader_->path().c_str(),
                            IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF) < 0) {
        close(inotify_fd_);
        inotify_fd_ = -1;
        return Napi::Boolean::New(env, false);
      }
      fd = inotify_fd_;
    }
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || !loop) return Napi::Boolean::New(env, false);
    callback_ = Napi::Persistent(info[0].As<Napi::Function>());
    async_context_.reset(new Napi::AsyncContext(env, "westream:trajectory"));
    poll_ = new uv_poll_t;
    poll_->data = this;
    if (uv_poll_init(loop, poll_, fd) != 0) {
      delete poll_;
      poll_ = nullptr;
      return Napi::Boolean::New(env, false);
    }
    uv_poll_start(poll_, UV_READABLE | UV_DISCONNECT, [](uv_poll_t* h, int, int) {
      static_cast<ReaderBinding*>(h->data)->OnReadable();
    });
    return Napi::Boolean::New(env, true);
  }

  void OnReadable() {
    if (inotify_fd_ >= 0) {
      alignas(struct inotify_event) char buf[4096];
      while (read(inotify_fd_, buf, sizeof buf) > 0) {
      }
    }
    if (callback_.IsEmpty()) return;
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    napi_value result;
    napi_status s = napi_make_callback(env, *async_context_, Value(), callback_.Value(), 0, nullptr, &result);
    if (s == napi_pending_exception) {
      napi_value e;
      napi_get_and_clear_last_exception(env, &e);
      napi_fatal_exception(env, e);
    }
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Stop();
    reader_.reset();
    return info.Env().Undefined();
  }

  void Stop() {
    if (poll_) {
      uv_poll_stop(poll_);
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      poll_ = nullptr;
    }
    if (inotify_fd_ >= 0) {
      close(inotify_fd_);
      inotify_fd_ = -1;
    }
    if (!callback_.IsEmpty()) callback_.Reset();
  }

  std::unique_ptr<TrajectoryReader> reader_;
  JsSink sink_;
  Napi::Reference<Napi::Float64Array> meta_ref_;
  Napi::Reference<Napi::Float32Array> box_ref_;
  double* meta_ = nullptr;
  float* box_ = nullptr;
  uv_poll_t* poll_ = nullptr;
  int inotify_fd_ = -1;
  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> async_context_;
};

// mkfifo(path, mode): creates a named pipe (Node has no API for it).
Napi::Value MakeFifo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "mkfifo(path, mode)");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  mode_t mode = info.Length() > 1 && info[1].IsNumber() ? mode_t(info[1].As<Napi::Number>().Uint32Value()) : 0600;
  if (mkfifo(path.c_str(), mode) != 0) throw Napi::Error::New(env, "cannot create the named pipe " + path + ": " + strerror(errno));
  return env.Undefined();
}

}  // namespace

void InitFormats(Napi::Env env, Napi::Object exports) {
  exports.Set("TrajectoryReader", ReaderBinding::Define(env));
  exports.Set("mkfifo", Napi::Function::New(env, MakeFifo, "mkfifo"));
  exports.Set("trajectoryFormats", Napi::String::New(env, "xtc trr dcd netcdf lammpsdump"));
}

}  // namespace westream
