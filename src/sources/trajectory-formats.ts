// The trajectory formats westream decodes, in a module of their own: the
// CLI lists them (`--format` choices) without loading the decoders.
export type TrajectoryFormat = 'xtc' | 'trr' | 'dcd' | 'netcdf' | 'lammpsdump';
export const trajectoryFormats: readonly TrajectoryFormat[] = ['xtc', 'trr', 'dcd', 'netcdf', 'lammpsdump'];
