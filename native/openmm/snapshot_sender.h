/*
 * The thread between the engine and the ring: it waits for each snapshot's
 * download to land, assembles the frame straight into a ring slot and
 * publishes it. The engine's thread only queues downloads, so it keeps
 * feeding the GPU; it waits here only when every snapshot is still in
 * flight (the consumer or the copy is behind), which is the backpressure.
 */
#ifndef WESTREAM_OPENMM_SNAPSHOT_SENDER_H
#define WESTREAM_OPENMM_SNAPSHOT_SENDER_H

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "snapshot.h"
#include "westream.h"

namespace OpenMM {
class ComputeContext;
}

namespace westream {

class SnapshotSender {
 public:
  /* Takes over `producer` (closed by the destructor). `cc`: the device
   * context downloads are waited for in (null on the host path). */
  SnapshotSender(westream_producer* producer, OpenMM::ComputeContext* cc, int depth);
  ~SnapshotSender();

  /* A snapshot free to fill; waits while all are in flight. Throws
   * StreamError if publishing failed. */
  Snapshot& acquire();
  /* Hands a filled snapshot over (in capture order). */
  void post(Snapshot& s);
  /* Returns an acquired snapshot unsent (filling it failed). */
  void giveBack(Snapshot& s);
  /* Waits until every posted snapshot is published; throws StreamError. */
  void drain();
  /* drain(), then westream_end(): the stream is complete. */
  void end();

  std::uint64_t frames() const;

 private:
  void run();
  void throwIfFailed();  // with mutex_ held

  westream_producer* producer_;
  OpenMM::ComputeContext* cc_;
  std::vector<std::unique_ptr<Snapshot>> all_;
  std::deque<Snapshot*> free_, queued_;
  int busy_ = 0;  // taken by the thread, not yet returned
  std::uint64_t published_ = 0;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool stopping_ = false;
  int status_ = WESTREAM_OK;
  std::string error_;
  std::thread thread_;
};

}  // namespace westream

#endif
