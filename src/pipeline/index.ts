// Declarative pipelines (YAML) → operators from frames to pcoord rows.
export { loadPipeline, parsePipeline, formatRow, PipelineError, type Pipeline, type PcoordRow } from './load.js';
export { MEASURES, TOP_LEVEL, type MeasureSpec, type ParamSpec } from './schema.js';
