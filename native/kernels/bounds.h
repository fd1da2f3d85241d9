// Index validation shared by the kernels: every index must address an atom of the frame.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace westream::kernels {

/** Throws std::out_of_range naming the first index outside [0, natoms). */
inline void check_indices(const int32_t* idx, std::size_t n, std::size_t natoms, const char* who) {
  // Branch-free scan (vectorises); the slow path only finds the culprit.
  uint32_t worst = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const uint32_t v = static_cast<uint32_t>(idx[i]);  // negative → huge
    worst = v > worst ? v : worst;
  }
  if (n > 0 && static_cast<std::size_t>(worst) >= natoms) {
    for (std::size_t i = 0; i < n; ++i) {
      if (idx[i] < 0 || static_cast<std::size_t>(idx[i]) >= natoms)
        throw std::out_of_range(std::string(who) + ": atom index " + std::to_string(idx[i]) + " (entry " + std::to_string(i) +
                                ") is outside the frame's " + std::to_string(natoms) + " atoms");
    }
  }
}

}  // namespace westream::kernels
