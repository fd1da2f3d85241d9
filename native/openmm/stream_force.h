/*
 * westream::StreamForce: streams an OpenMM simulation's positions to a
 * westream consumer from inside the Context, without getState().
 *
 * A zero-energy Force. Its ForceImpl runs at the start of every step
 * (updateContextState); every `interval` steps it queues a non-blocking
 * download of the device's positions behind the work already queued, and a
 * background thread waits for it and publishes the frame. The GPU never
 * waits for the host, unlike getState(), which drains the queue (the 0.94x
 * floor measured for every OpenMM reporter in bench/README.md).
 *
 * Frames are those of the states between steps, as reporters see them,
 * including step 0 (row 0 of a WESTPA pcoord): the state after step s is
 * captured when step s+1 starts, and finish() captures the last one.
 * Positions are unwrapped (getState(enforcePeriodicBox=False)), converted
 * nm -> Angstrom in float64 and rounded to float32 once, as StreamReporter
 * does. On CPU and Reference platforms the capture is synchronous.
 */
#ifndef WESTREAM_OPENMM_STREAM_FORCE_H
#define WESTREAM_OPENMM_STREAM_FORCE_H

#include <cstdint>
#include <string>

#include "openmm/Context.h"
#include "openmm/Force.h"

namespace westream {

class StreamForce : public OpenMM::Force {
 public:
  /* `address`: socket path or "@name"; empty reads WESTREAM_ADDRESS when
   * the first frame is captured. `nslots`: ring depth hint, 0 = consumer's. */
  StreamForce(int interval, const std::string& address, int nslots);

  int getInterval() const { return interval_; }
  const std::string& getAddress() const { return address_; }
  int getNumSlots() const { return nslots_; }
  bool usesPeriodicBoundaryConditions() const override { return false; }

  /* Captures the context's current state if its step is due and was not
   * sent yet, waits for every frame in flight and declares the stream
   * complete. Throws OpenMM::OpenMMException naming what failed. */
  void finish(OpenMM::Context& context) const;
  /* Waits for frames in flight and closes without declaring the stream
   * complete (the consumer sees it as incomplete). */
  void close(OpenMM::Context& context) const;
  /* Frames published so far in `context`. */
  std::uint64_t frames(OpenMM::Context& context) const;
  /* Seconds the engine's thread spent capturing frames in `context`
   * (queuing downloads, or copying on CPU; waits for a free buffer
   * included): what streaming cost the simulation itself. */
  double engineSeconds(OpenMM::Context& context) const;

 protected:
  OpenMM::ForceImpl* createImpl() const override;

 private:
  int interval_;
  std::string address_;
  int nslots_;
};

}  // namespace westream

#endif
