// libFuzzer target: the netcdf decoder (see fuzz_driver.h, run.sh).
#include "fuzz_driver.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return wsfuzz::fuzz_one(westream::formats::Format::NetCdf, data, size);
}
