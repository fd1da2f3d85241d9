/* The exception westream's OpenMM code throws: an OpenMMException (so it
 * crosses OpenMM's Python layer as one) that keeps the channel's status. */
#ifndef WESTREAM_OPENMM_STREAM_ERROR_H
#define WESTREAM_OPENMM_STREAM_ERROR_H

#include <string>

#include "openmm/OpenMMException.h"
#include "westream.h"

namespace westream {

class StreamError : public OpenMM::OpenMMException {
 public:
  StreamError(int status, const std::string& message)
      : OpenMM::OpenMMException("westream: " + message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

}  // namespace westream

#endif
