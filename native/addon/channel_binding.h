// JS class `Channel` over westream::Consumer (see channel_binding.cpp).
#pragma once

#include <napi.h>
#include <uv.h>

#include <memory>
#include <string>

#include "consumer.h"

namespace westream {

class ChannelBinding : public Napi::ObjectWrap<ChannelBinding> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit ChannelBinding(const Napi::CallbackInfo& info);
  ~ChannelBinding() override;

 private:
  Napi::Value Address(const Napi::CallbackInfo& info);
  Napi::Value StateValue(const Napi::CallbackInfo& info);
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  void OnReadable();
  void Dispatch(Napi::Env env);
  void Connected(Napi::Env env);
  bool Call(Napi::FunctionReference& fn, const std::initializer_list<napi_value>& args);
  void Stop();
  void Free();
  const std::string& address_cache();

  std::unique_ptr<Consumer> consumer_;
  std::string address_;
  uv_poll_t* poll_ = nullptr;
  std::unique_ptr<Napi::AsyncContext> async_context_;
  Napi::FunctionReference on_connect_, on_frame_, on_end_, on_error_, on_warning_;
  Napi::Reference<Napi::ArrayBuffer> ring_ref_;
  bool copy_ = false;           // copy each frame instead of zero-copy views
  bool ring_exported_ = false;  // an external buffer owns the ring mapping
  bool connected_ = false;
  bool dispatching_ = false;    // inside a JS callback: defer Close()
  bool closing_ = false;
};

}  // namespace westream
