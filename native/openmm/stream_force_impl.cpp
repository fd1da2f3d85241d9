#include "stream_force_impl.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "openmm/System.h"
#include "openmm/common/ComputeArray.h"
#include "openmm/common/ComputeContext.h"
#include "openmm/common/ContextSelector.h"
#include "openmm/cuda/CudaPlatform.h"
#include "openmm/hip/HipPlatform.h"
#include "openmm/internal/ContextImpl.h"
#include "openmm/opencl/OpenCLPlatform.h"
#include "stream_error.h"

namespace westream {

namespace {

// Two snapshots: one landing or being published while the next is queued.
constexpr int kDepth = 2;

// The device context of a GPU platform, or null for CPU/Reference.
// CudaContext, OpenCLContext and HipContext each derive from ComputeContext
// alone (single, non-virtual inheritance), so their address is the base's;
// the classes themselves are not completed here because their headers need
// the vendors' toolkits. getContextImpl() checks the result.
OpenMM::ComputeContext* deviceContextOf(OpenMM::ContextImpl& context) {
  const std::string& name = context.getPlatform().getName();
  void* data = context.getPlatformData();
  void* device = nullptr;
  if (name == "CUDA")
    device = static_cast<OpenMM::CudaPlatform::PlatformData*>(data)->contexts.at(0);
  else if (name == "OpenCL")
    device = static_cast<OpenMM::OpenCLPlatform::PlatformData*>(data)->contexts.at(0);
  else if (name == "HIP")
    device = static_cast<OpenMM::HipPlatform::PlatformData*>(data)->contexts.at(0);
  else
    return nullptr;
  auto* cc = static_cast<OpenMM::ComputeContext*>(device);
  if (cc->getContextImpl() != &context)
    throw StreamError(WESTREAM_E_ARGUMENT, "the " + name + " platform's data is not laid out as this build of westream expects; rebuild westream against this OpenMM");
  return cc;
}

}  // namespace

StreamForceImpl::~StreamForceImpl() {
  try {
    close();
  } catch (...) {
    // A destructor cannot report; the consumer sees an incomplete stream.
  }
}

void StreamForceImpl::initialize(OpenMM::ContextImpl& context) {
  natoms_ = static_cast<unsigned>(context.getSystem().getNumParticles());
  periodic_ = context.getSystem().usesPeriodicBoundaryConditions();
}

void StreamForceImpl::updateContextState(OpenMM::ContextImpl& context, bool&) {
  const long long step = context.getStepCount();
  if (step % owner_.getInterval() != 0 || step == lastStep_) return;
  if (finished_) throw StreamError(WESTREAM_E_ARGUMENT, "a frame is due at step " + std::to_string(step) + " but the stream was finished");
  capture(context, step);
}

void StreamForceImpl::start(OpenMM::ContextImpl& context) {
  cc_ = deviceContextOf(context);
  if (cc_ != nullptr) {
    std::string why;
    locker_ = PageLocker::forPlatform(context.getPlatform().getName(), why);
    if (!why.empty())
      std::fprintf(stderr, "westream: %s; frames are copied synchronously (the GPU waits for each)\n", why.c_str());
  }
  westream_options options = WESTREAM_OPTIONS_INIT;
  options.natoms = natoms_;
  options.nslots = static_cast<uint32_t>(owner_.getNumSlots());
  westream_producer* producer = nullptr;
  const std::string& address = owner_.getAddress();
  const int rc = westream_connect(&producer, address.empty() ? nullptr : address.c_str(), &options);
  if (rc != WESTREAM_OK) throw StreamError(rc, westream_last_error(nullptr));
  sender_ = std::make_unique<SnapshotSender>(producer, cc_, kDepth);
}

void StreamForceImpl::capture(OpenMM::ContextImpl& context, long long step) {
  const auto t0 = std::chrono::steady_clock::now();
  struct Timer {  // counts on every way out, failures included
    std::chrono::steady_clock::time_point t0;
    double& total;
    ~Timer() { total += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); }
  } timer{t0, engineSeconds_};
  if (!sender_) start(context);
  Snapshot& s = sender_->acquire();
  try {
    s.step = step;
    s.time = context.getTime();
    s.periodic = periodic_;
    context.getPeriodicBoxVectors(s.box[0], s.box[1], s.box[2]);
    if (cc_ != nullptr)
      fillFromDevice(context, s);
    else
      fillFromHost(context, s);
  } catch (...) {
    sender_->giveBack(s);
    throw;
  }
  lastStep_ = step;
  sender_->post(s);
}

void StreamForceImpl::fillFromHost(OpenMM::ContextImpl& context, Snapshot& s) {
  s.layout = Layout::HostVec3;
  context.getPositions(s.host, false);
}

void StreamForceImpl::fillFromDevice(OpenMM::ContextImpl&, Snapshot& s) {
  OpenMM::ContextSelector selector(*cc_);
  OpenMM::ArrayInterface& posq = cc_->getPosq();
  const bool mixed = cc_->getUseMixedPrecision();
  s.layout = cc_->getUseDoublePrecision() ? Layout::Double4 : mixed ? Layout::Float4Mixed : Layout::Float4;
  const std::size_t bytes = static_cast<std::size_t>(posq.getSize()) * posq.getElementSize();
  if (s.posq.size() != bytes) {
    bool locked = s.posq.allocate(bytes, locker_);
    if (mixed) {
      OpenMM::ArrayInterface& correction = cc_->getPosqCorrection();
      locked = s.correction.allocate(static_cast<std::size_t>(correction.getSize()) * correction.getElementSize(), locker_) && locked;
    }
    if (!locked) std::fprintf(stderr, "westream: could not page-lock %zu bytes; frames are copied synchronously\n", bytes);
  }
  if (!s.ready) s.ready = cc_->createEvent();
  // Queued behind the step that produced these positions; returns at once.
  posq.download(s.posq.data(), false);
  if (mixed) cc_->getPosqCorrection().download(s.correction.data(), false);
  s.ready->enqueue();
  // The host's view of the order and cells matches the queued positions:
  // reordering updates both when it queues its kernels.
  const std::vector<int>& order = cc_->getAtomIndex();
  const std::vector<OpenMM::mm_int4>& offsets = cc_->getPosCellOffsets();
  s.order.assign(order.begin(), order.begin() + std::min<std::size_t>(order.size(), natoms_));
  s.offsets.assign(offsets.begin(), offsets.begin() + std::min<std::size_t>(offsets.size(), natoms_));
}

void StreamForceImpl::finish(OpenMM::ContextImpl& context) {
  if (finished_) return;
  const long long step = context.getStepCount();
  if (step % owner_.getInterval() == 0 && step != lastStep_) capture(context, step);
  if (!sender_) start(context);  // no frame at all: the consumer still learns the stream ended
  sender_->end();
  close();
}

void StreamForceImpl::close() {
  finished_ = true;
  if (!sender_) return;
  sent_ = sender_->frames();
  // Waits for downloads in flight and closes (without END if not ended).
  // The device context is current so page-locked buffers unregister from it.
  if (cc_ != nullptr) {
    OpenMM::ContextSelector selector(*cc_);
    sender_.reset();
  } else {
    sender_.reset();
  }
}

}  // namespace westream
