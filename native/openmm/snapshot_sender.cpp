#include "snapshot_sender.h"

#include <signal.h>

#include "openmm/common/ComputeContext.h"
#include "openmm/common/ContextSelector.h"
#include "stream_error.h"

namespace westream {

SnapshotSender::SnapshotSender(westream_producer* producer, OpenMM::ComputeContext* cc, int depth)
    : producer_(producer), cc_(cc) {
  for (int i = 0; i < depth; i++) {
    all_.push_back(std::make_unique<Snapshot>());
    free_.push_back(all_.back().get());
  }
  // The thread takes no signals: they belong to the engine's main thread,
  // and a blocked westream_acquire would otherwise return INTERRUPTED.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  thread_ = std::thread([this] { run(); });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

SnapshotSender::~SnapshotSender() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
  westream_close(producer_);
}

void SnapshotSender::throwIfFailed() {
  if (status_ != WESTREAM_OK) throw StreamError(status_, error_);
}

Snapshot& SnapshotSender::acquire() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [this] { return !free_.empty() || status_ != WESTREAM_OK; });
  throwIfFailed();
  Snapshot* s = free_.front();
  free_.pop_front();
  return *s;
}

void SnapshotSender::post(Snapshot& s) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queued_.push_back(&s);
  }
  changed_.notify_all();
}

void SnapshotSender::giveBack(Snapshot& s) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    free_.push_front(&s);
  }
  changed_.notify_all();
}

void SnapshotSender::drain() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [this] { return (queued_.empty() && busy_ == 0) || status_ != WESTREAM_OK; });
  throwIfFailed();
}

void SnapshotSender::end() {
  drain();
  const int rc = westream_end(producer_);
  if (rc != WESTREAM_OK) {
    std::lock_guard<std::mutex> lock(mutex_);
    status_ = rc, error_ = westream_last_error(producer_);
    throwIfFailed();
  }
}

std::uint64_t SnapshotSender::frames() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return published_;
}

void SnapshotSender::run() {
  const unsigned natoms = westream_natoms(producer_);
  for (;;) {
    Snapshot* s;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [this] { return !queued_.empty() || stopping_; });
      if (queued_.empty()) return;
      s = queued_.front();
      queued_.pop_front();
      busy_++;
    }
    // The download must land before its buffer is reused, even after a failure.
    if (s->ready) {
      OpenMM::ContextSelector selector(*cc_);
      s->ready->wait();
    }
    int rc = WESTREAM_OK;
    bool drop;
    std::string error;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      rc = status_;
      // After a failure, or when closing without end (the stream is
      // incomplete anyway), snapshots are only returned, not published.
      drop = rc != WESTREAM_OK || stopping_;
    }
    if (!drop) {
      westream_frame f;
      do rc = westream_acquire(producer_, &f);
      while (rc == WESTREAM_E_INTERRUPTED);
      if (rc != WESTREAM_OK) {
        error = westream_last_error(producer_);
      } else if (!assemblePositions(*s, natoms, f.positions, error)) {
        rc = WESTREAM_E_ARGUMENT;
        error = "frame at step " + std::to_string(s->step) + ": " + error;
      } else {
        f.step = s->step;
        f.time = s->time;
        f.flags = WESTREAM_HAS_STEP | WESTREAM_HAS_TIME;
        if (s->periodic) {
          wireBox(s->box, f.box);
          f.flags |= WESTREAM_HAS_BOX;
        }
        rc = westream_publish(producer_, &f);
        if (rc != WESTREAM_OK) error = westream_last_error(producer_);
      }
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!drop && rc != WESTREAM_OK && status_ == WESTREAM_OK) status_ = rc, error_ = error;
      if (!drop && rc == WESTREAM_OK) published_++;
      free_.push_back(s);
      busy_--;
    }
    changed_.notify_all();
  }
}

}  // namespace westream
