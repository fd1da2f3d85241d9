/*
 * Page-aligned host memory for device downloads. On CUDA and HIP it is
 * page-locked (registered with the driver), which is what makes a
 * non-blocking download return before the copy ends: into pageable memory
 * the driver copies synchronously, and the host would wait for the GPU's
 * queue to drain exactly like getState() does.
 *
 * The drivers are reached through dlopen(RTLD_NOLOAD) of the library the
 * OpenMM platform already loaded, so westream builds without CUDA or ROCm.
 */
#ifndef WESTREAM_OPENMM_HOST_BUFFER_H
#define WESTREAM_OPENMM_HOST_BUFFER_H

#include <cstddef>
#include <string>

namespace westream {

/* How to page-lock memory for one platform; empty on others. */
struct PageLocker {
  int (*lock)(void* p, std::size_t bytes, unsigned flags) = nullptr;
  int (*unlock)(void* p) = nullptr;
  /* Finds the driver entry points for platform `name` ("CUDA", "HIP");
   * `why` says what is missing when it returns an empty locker for them. */
  static PageLocker forPlatform(const std::string& name, std::string& why);
};

class HostBuffer {
 public:
  HostBuffer() = default;
  HostBuffer(const HostBuffer&) = delete;
  HostBuffer& operator=(const HostBuffer&) = delete;
  ~HostBuffer() { release(); }

  /* Allocates `bytes`; page-locks it when `locker` can (call with the
   * device context current). Returns false if locking failed (the buffer
   * still works, synchronously). Throws std::bad_alloc. */
  bool allocate(std::size_t bytes, const PageLocker& locker);
  /* Unlocks (device context current) and frees. */
  void release();

  void* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  void* data_ = nullptr;
  std::size_t size_ = 0;
  int (*unlock_)(void*) = nullptr;
};

}  // namespace westream

#endif
