// westream public API.
export { type Frame, OwnedFrame, copyFrame, boxDimensions } from './core/frame.js';
export {
  fromChannel,
  ChannelObservable,
  ChannelError,
  type ChannelOptions,
  type ChannelInfo,
} from './sources/channel.js';
export {
  fromTrajectory,
  TrajectoryError,
  trajectoryFormats,
  type TrajectoryFormat,
  type TrajectoryOptions,
  type TrajectoryInfo,
} from './sources/trajectory.js';
export { type Until } from './sources/follow.js';
export { fromImd, ImdObservable, ImdError, type ImdOptions, type ImdFrame, type ImdEnergies } from './sources/imd/index.js';
// Topologies, selections, analysis operators and declarative pipelines.
export {
  Topology,
  TopologyError,
  readTopology,
  topologyFormat,
  parsePDB,
  parseGRO,
  parsePrmtop,
  parsePSF,
  cellToBox,
  AtomGroup,
  selectAtoms,
  parseSelection,
  SelectionError,
  EmptySelectionError,
  type TopologyFormat,
  type SelectOptions,
} from './topology/index.js';
export {
  select,
  distance,
  distances,
  angle,
  dihedral,
  centerOfGeometry,
  centerOfMass,
  radiusOfGyration,
  rmsd,
  nativeContacts,
  coordination,
  minDistance,
  everyNth,
  row,
  measure,
  minimumImage,
  type Measure,
  type GroupSpec,
  type RowPart,
  type DistanceOptions,
  type AngleOptions,
  type DihedralOptions,
  type RadiusOfGyrationOptions,
  type RmsdOptions,
  type NativeContactsOptions,
  type CoordinationOptions,
} from './analysis/index.js';
export { loadPipeline, parsePipeline, formatRow, PipelineError, type Pipeline, type PcoordRow } from './pipeline/index.js';
