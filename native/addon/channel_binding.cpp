// Node binding of the channel consumer: drives westream::Consumer from libuv
// and hands frames to JS as zero-copy views (or copies where the runtime
// forbids external buffers).
#include "channel_binding.h"

#include <sys/mman.h>
#include <uv.h>

#include <cstring>
#include <string>

namespace westream {

namespace {

// Finalizer of the external buffer over the slots: unmaps the whole ring
// (header page included) once no view is left.
void UnmapRing(napi_env, void* slots, void* ring_bytes) {
  munmap(static_cast<uint8_t*>(slots) - WESTREAM_RING_HEADER_BYTES, reinterpret_cast<size_t>(ring_bytes));
}

uint32_t OptUint(const Napi::Object& o, const char* key, uint32_t fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("channel option ") + key + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 4294967295.0) || d != static_cast<double>(static_cast<uint32_t>(d)))
    throw Napi::RangeError::New(o.Env(), std::string("channel option ") + key + " must be a non-negative integer");
  return static_cast<uint32_t>(d);
}

}  // namespace

Napi::Function ChannelBinding::Define(Napi::Env env) {
  return DefineClass(env, "Channel",
                     {
                         InstanceAccessor<&ChannelBinding::Address>("address"),
                         InstanceAccessor<&ChannelBinding::StateValue>("state"),
                         InstanceMethod<&ChannelBinding::Start>("start"),
                         InstanceMethod<&ChannelBinding::Close>("close"),
                     });
}

// new Channel({ address?, abstract?, nslots?, expectAtoms?, ringBudget?, copy? })
ChannelBinding::ChannelBinding(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ChannelBinding>(info) {
  Napi::Env env = info.Env();
  ConsumerOptions options;
  if (info.Length() > 0 && info[0].IsObject()) {
    Napi::Object o = info[0].As<Napi::Object>();
    Napi::Value address = o.Get("address");
    if (address.IsString()) options.address = address.As<Napi::String>().Utf8Value();
    else if (!address.IsUndefined() && !address.IsNull())
      throw Napi::TypeError::New(env, "channel option address must be a string");
    options.abstract = o.Get("abstract").ToBoolean().Value();
    options.nslots = OptUint(o, "nslots", 0);
    if (options.nslots > WESTREAM_MAX_SLOTS)
      throw Napi::RangeError::New(env, "channel option nslots must be at most " + std::to_string(WESTREAM_MAX_SLOTS));
    options.expect_natoms = OptUint(o, "expectAtoms", 0);
    uint32_t budget_mb = OptUint(o, "ringBudgetMiB", 0);
    if (budget_mb) options.ring_budget = static_cast<uint64_t>(budget_mb) << 20;
    copy_ = o.Get("copy").ToBoolean().Value();
  }
  std::string error;
  consumer_.reset(Consumer::Listen(options, &error));
  if (!consumer_) throw Napi::Error::New(env, "cannot create westream channel: " + error);
}

ChannelBinding::~ChannelBinding() {
  // Only reached once JS dropped us, i.e. after Close() or never started.
  Stop();
  Free();
}

Napi::Value ChannelBinding::Address(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), address_cache());
}

const std::string& ChannelBinding::address_cache() {
  if (consumer_) address_ = consumer_->address();
  return address_;
}

Napi::Value ChannelBinding::StateValue(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), consumer_ ? StateName(consumer_->state()) : "closed");
}

// start({ onConnect, onFrame, onEnd, onError, onWarning })
Napi::Value ChannelBinding::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!consumer_) throw Napi::Error::New(env, "channel is closed");
  if (poll_) throw Napi::Error::New(env, "channel already started");
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "start(callbacks) needs an object");
  Napi::Object cb = info[0].As<Napi::Object>();
  auto fn = [&](const char* name) {
    Napi::Value v = cb.Get(name);
    if (!v.IsFunction()) throw Napi::TypeError::New(env, std::string("start: ") + name + " must be a function");
    return Napi::Persistent(v.As<Napi::Function>());
  };
  on_connect_ = fn("onConnect");
  on_frame_ = fn("onFrame");
  on_end_ = fn("onEnd");
  on_error_ = fn("onError");
  on_warning_ = fn("onWarning");
  async_context_.reset(new Napi::AsyncContext(env, "westream:channel"));

  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || !loop) throw Napi::Error::New(env, "no libuv loop");
  poll_ = new uv_poll_t;
  poll_->data = this;
  if (uv_poll_init(loop, poll_, consumer_->wait_fd()) != 0) {
    delete poll_;
    poll_ = nullptr;
    throw Napi::Error::New(env, "uv_poll_init failed on the channel");
  }
  uv_poll_start(poll_, UV_READABLE, [](uv_poll_t* handle, int, int) {
    static_cast<ChannelBinding*>(handle->data)->OnReadable();
  });
  Ref();  // keep this object (and so the callbacks) alive while polling
  return env.Undefined();
}

Napi::Value ChannelBinding::Close(const Napi::CallbackInfo& info) {
  Stop();
  if (dispatching_) closing_ = true;  // free the rest once the current callback returns
  else Free();
  return info.Env().Undefined();
}

// Stops polling and releases sockets, eventfds and the socket file now, so
// that whoever closes (or completes) sees everything gone synchronously.
void ChannelBinding::Stop() {
  if (poll_) {
    uv_poll_stop(poll_);
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    poll_ = nullptr;
    Unref();
  }
  if (consumer_) {
    address_cache();
    consumer_->Close();
  }
}

// Releases the ring (the consumer object must not be in use).
void ChannelBinding::Free() {
  if (!consumer_) return;
  void* ring = nullptr;
  size_t bytes = 0;
  consumer_->DetachRing(&ring, &bytes);
  // Views over the ring keep the (now anonymous) mapping until they are
  // collected; without views, unmap right away.
  if (ring && !ring_exported_) munmap(ring, bytes);
  ring_ref_.Reset();
  consumer_.reset();
}

void ChannelBinding::OnReadable() {
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  dispatching_ = true;
  Dispatch(env);
  dispatching_ = false;
  if (closing_) {
    Stop();
    Free();
  }
}

bool ChannelBinding::Call(Napi::FunctionReference& fn, const std::initializer_list<napi_value>& args) {
  if (closing_) return false;
  napi_value result;
  napi_status s = napi_make_callback(Env(), *async_context_, Value(), fn.Value(), args.size(),
                                     args.begin(), &result);
  if (s == napi_pending_exception) {
    napi_value e;
    napi_get_and_clear_last_exception(Env(), &e);
    Napi::Value err(Env(), e);
    std::string msg = err.IsObject() ? err.As<Napi::Object>().Get("message").ToString().Utf8Value()
                                     : err.ToString().Utf8Value();
    consumer_->Fail("pipeline threw: " + msg);
    return false;
  }
  return s == napi_ok;
}

void ChannelBinding::Connected(Napi::Env env) {
  connected_ = true;
  const westream_layout& l = consumer_->layout();
  Napi::Object info = Napi::Object::New(env);
  info.Set("natoms", consumer_->natoms());
  info.Set("nslots", consumer_->nslots());
  info.Set("content", consumer_->content());
  info.Set("pid", consumer_->producer_pid());
  info.Set("slotStride", static_cast<double>(l.slot_stride));
  Napi::Array offsets = Napi::Array::New(env, 3);
  for (uint32_t i = 0; i < 3; i++) offsets.Set(i, static_cast<double>(l.array_offset[i]));
  info.Set("arrayOffsets", offsets);
  info.Set("boxOffset", static_cast<double>(offsetof(westream_slot_header, box)));
  // One external buffer over all slots; JS builds its views once.
  napi_value buffer = nullptr;
  if (!copy_) {
    const size_t ring_bytes = WESTREAM_RING_HEADER_BYTES + consumer_->slots_bytes();
    napi_status s = napi_create_external_arraybuffer(env, consumer_->slots_base(), consumer_->slots_bytes(), UnmapRing,
                                                     reinterpret_cast<void*>(ring_bytes), &buffer);
    if (s == napi_ok) {
      // From now on the buffer's finalizer owns the mapping; holding a
      // reference until Free() keeps it mapped while we still use it.
      ring_exported_ = true;
      ring_ref_ = Napi::Persistent(Napi::ArrayBuffer(env, buffer));
    } else {
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      if (pending) {
        napi_value ignored;
        napi_get_and_clear_last_exception(env, &ignored);
      }
      copy_ = true;
      buffer = nullptr;
      info.Set("copyReason", "this runtime does not allow external buffers (status " + std::to_string(s) + ")");
    }
  }
  info.Set("buffer", buffer ? Napi::Value(env, buffer) : env.Null());
  info.Set("copy", copy_);
  Call(on_connect_, {info});
}

void ChannelBinding::Dispatch(Napi::Env env) {
  for (;;) {
    if (!consumer_ || closing_) return;
    consumer_->Pump();
    std::string warnings = consumer_->TakeWarnings();
    if (!warnings.empty()) Call(on_warning_, {Napi::String::New(env, warnings)});
    if (closing_) return;
    if (!connected_ && consumer_->state() == State::kStreaming) Connected(env);

    FrameView f;
    while (!closing_ && consumer_->NextFrame(&f)) {
      Napi::HandleScope frame_scope(env);
      napi_value copy = env.Null();
      if (copy_) {
        // Copy the used part of the slot: header and arrays.
        const westream_layout& l = consumer_->layout();
        size_t used = WESTREAM_SLOT_HEADER_BYTES;
        for (int i = 0; i < 3; i++)
          if (l.array_offset[i]) used = l.array_offset[i] + ((consumer_->natoms() * 12u + 63u) / 64u) * 64u;
        Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, used);
        memcpy(ab.Data(), consumer_->slots_base() + f.slot * l.slot_stride, used);
        copy = ab;
      }
      Call(on_frame_, {Napi::Number::New(env, f.slot), Napi::Number::New(env, static_cast<double>(f.index)),
                       Napi::Number::New(env, static_cast<double>(f.step)), Napi::Number::New(env, f.time),
                       Napi::Number::New(env, f.flags), copy});
      if (closing_) return;
      consumer_->Release();
    }
    if (closing_ || !consumer_) return;
    consumer_->Settle();
    if (consumer_->state() == State::kEnded) {
      Call(on_end_, {Napi::Number::New(env, static_cast<double>(consumer_->delivered()))});
      closing_ = true;
      return;
    }
    if (consumer_->state() == State::kFailed) {
      Call(on_error_, {Napi::String::New(env, consumer_->error())});
      closing_ = true;
      return;
    }
    if (consumer_->PrepareSleep()) return;  // wait for the next wake-up
  }
}

}  // namespace westream
