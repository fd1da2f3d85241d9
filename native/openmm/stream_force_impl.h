/* The per-Context side of StreamForce: decides when a frame is due,
 * captures it (device download or host copy) and owns the sender. */
#ifndef WESTREAM_OPENMM_STREAM_FORCE_IMPL_H
#define WESTREAM_OPENMM_STREAM_FORCE_IMPL_H

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "host_buffer.h"
#include "openmm/internal/ForceImpl.h"
#include "snapshot_sender.h"
#include "stream_force.h"

namespace westream {

class StreamForceImpl : public OpenMM::ForceImpl {
 public:
  explicit StreamForceImpl(const StreamForce& owner) : owner_(owner) {}
  ~StreamForceImpl() override;

  void initialize(OpenMM::ContextImpl& context) override;
  const OpenMM::Force& getOwner() const override { return owner_; }
  void updateContextState(OpenMM::ContextImpl& context, bool& forcesInvalid) override;
  double calcForcesAndEnergy(OpenMM::ContextImpl&, bool, bool, int) override { return 0.0; }
  std::map<std::string, double> getDefaultParameters() override { return {}; }
  std::vector<std::string> getKernelNames() override { return {}; }

  void finish(OpenMM::ContextImpl& context);
  void close();
  std::uint64_t frames() const { return sender_ ? sender_->frames() : sent_; }
  double engineSeconds() const { return engineSeconds_; }

 private:
  void capture(OpenMM::ContextImpl& context, long long step);
  void start(OpenMM::ContextImpl& context);
  void fillFromDevice(OpenMM::ContextImpl& context, Snapshot& s);
  void fillFromHost(OpenMM::ContextImpl& context, Snapshot& s);

  const StreamForce& owner_;
  unsigned natoms_ = 0;
  bool periodic_ = false;
  OpenMM::ComputeContext* cc_ = nullptr;  // null: CPU/Reference, captured on the host
  PageLocker locker_;
  std::unique_ptr<SnapshotSender> sender_;
  long long lastStep_ = -1;  // step of the last capture
  bool finished_ = false;
  std::uint64_t sent_ = 0;  // frames of a finished or closed stream
  double engineSeconds_ = 0;  // time capture() took on the engine's thread
};

}  // namespace westream

#endif
