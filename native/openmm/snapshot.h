/*
 * One captured state on its way from the engine to a ring slot: either the
 * device's raw position array (as downloaded, in the device's atom order,
 * wrapped into cells) with the host-side bookkeeping needed to undo that,
 * or, on CPU/Reference platforms, positions already in atom order.
 */
#ifndef WESTREAM_OPENMM_SNAPSHOT_H
#define WESTREAM_OPENMM_SNAPSHOT_H

#include <string>
#include <vector>

#include "host_buffer.h"
#include "openmm/Vec3.h"
#include "openmm/common/ComputeEvent.h"
#include "openmm/common/ComputeVectorTypes.h"

namespace westream {

enum class Layout {
  Float4,        // single precision: posq is float4 (x, y, z, charge)
  Float4Mixed,   // mixed: float4 posq + float4 correction, summed in double
  Double4,       // double precision: double4 posq
  HostVec3       // CPU/Reference: Vec3 in atom order, unwrapped
};

struct Snapshot {
  Layout layout = Layout::HostVec3;
  HostBuffer posq;        // device layouts, numAtoms entries used
  HostBuffer correction;  // Float4Mixed
  std::vector<int> order;                  // device index -> atom index
  std::vector<OpenMM::mm_int4> offsets;    // cells each atom was wrapped by
  std::vector<OpenMM::Vec3> host;          // HostVec3
  OpenMM::Vec3 box[3];
  bool periodic = false;
  long long step = 0;
  double time = 0;
  OpenMM::ComputeEvent ready;  // signalled when the download landed; null on the host path
};

/* Writes the snapshot's positions in atom order, unwrapped, as float32
 * Angstrom (x10 in float64, rounded once) into out[3 * natoms]. Returns
 * false with `error` set if the bookkeeping names an atom out of range. */
bool assemblePositions(const Snapshot& s, unsigned natoms, float* out, std::string& error);

/* The cell as the wire wants it: ax, bx, by, cx, cy, cz in Angstrom. */
void wireBox(const OpenMM::Vec3 box[3], float out[6]);

}  // namespace westream

#endif
