#include "host_buffer.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <new>
#include <vector>

namespace westream {

namespace {

template <typename Fn>
Fn symbol(void* lib, const char* name) {
  return reinterpret_cast<Fn>(dlsym(lib, name));
}

}  // namespace

PageLocker PageLocker::forPlatform(const std::string& name, std::string& why) {
  PageLocker locker;
  std::vector<const char*> libs;  // the sonames the platform may have loaded
  const char* lockName = nullptr;
  const char* unlockName = nullptr;
  if (name == "CUDA") {
    libs = {"libcuda.so.1"}, lockName = "cuMemHostRegister_v2", unlockName = "cuMemHostUnregister";
  } else if (name == "HIP") {
    libs = {"libamdhip64.so.7", "libamdhip64.so.6", "libamdhip64.so.5", "libamdhip64.so"};
    lockName = "hipHostRegister", unlockName = "hipHostUnregister";
  } else {
    return locker;  // OpenCL reads into any host memory without blocking
  }
  // RTLD_NOLOAD: the platform plugin has loaded it; never load a second driver.
  void* handle = nullptr;
  const char* lib = libs.front();
  for (const char* candidate : libs) {
    if ((handle = dlopen(candidate, RTLD_NOW | RTLD_NOLOAD)) != nullptr) {
      lib = candidate;
      break;
    }
  }
  if (handle == nullptr) {
    why = std::string(lib) + " is not loaded in this process";
    return locker;
  }
  locker.lock = symbol<int (*)(void*, std::size_t, unsigned)>(handle, lockName);
  locker.unlock = symbol<int (*)(void*)>(handle, unlockName);
  if (locker.lock == nullptr || locker.unlock == nullptr) {
    why = std::string(lib) + " has no " + lockName;
    locker = PageLocker();
  }
  return locker;
}

bool HostBuffer::allocate(std::size_t bytes, const PageLocker& locker) {
  release();
  const long page = sysconf(_SC_PAGESIZE);
  const std::size_t align = page > 0 ? static_cast<std::size_t>(page) : 4096;
  const std::size_t rounded = (bytes + align - 1) / align * align;
  void* p = nullptr;
  if (posix_memalign(&p, align, rounded == 0 ? align : rounded) != 0) throw std::bad_alloc();
  data_ = p;
  size_ = bytes;
  if (locker.lock == nullptr) return true;
  if (locker.lock(data_, rounded == 0 ? align : rounded, 0) != 0) return false;
  unlock_ = locker.unlock;
  return true;
}

void HostBuffer::release() {
  if (data_ != nullptr && unlock_ != nullptr) unlock_(data_);
  std::free(data_);
  data_ = nullptr;
  size_ = 0;
  unlock_ = nullptr;
}

}  // namespace westream
