// A plain streaming read: the memory-bandwidth floor the analysis benchmark
// puts beside the kernels (`npm run bench:analysis`).
#pragma once

#include <cstddef>

namespace westream::kernels {

/**
 * The sum of every float of a (na floats) and b (nb floats, nullable), read
 * once each in one pass and in the order a kernel reads a frame with its
 * masses or reference: b is cut into `parts` equal arrays (1: masses; 3: the
 * x, y and z of a QCP reference) read side by side, in step with a. The
 * least work that touches the same bytes in the same order.
 */
double stream_sum(const float* a, std::size_t na, const float* b, std::size_t nb, std::size_t parts = 1);

}  // namespace westream::kernels
