// Analysis operators over Observable<Frame>.
export { measure, type Measure } from './measure.js';
export { type GroupSpec } from './groups.js';
export { select } from './select.js';
export { distance, distances, type DistanceOptions } from './distance.js';
export { angle, type AngleOptions } from './angle.js';
export { dihedral, type DihedralOptions } from './dihedral.js';
export { centerOfGeometry, centerOfMass } from './center.js';
export { radiusOfGyration, type RadiusOfGyrationOptions } from './radius-of-gyration.js';
export { rmsd, type RmsdOptions } from './rmsd.js';
export { nativeContacts, type NativeContactsOptions } from './native-contacts.js';
export { coordination, type CoordinationOptions } from './coordination.js';
export { minDistance } from './min-distance.js';
export { everyNth } from './every-nth.js';
export { row, type RowPart } from './row.js';
export { minimumImage } from './pbc.js';
export { kernels, type NativeKernels } from './native-kernels.js';
