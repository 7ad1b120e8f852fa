// first: refuses an older Node.js before anything else runs
import './node-guard.js';

export type { ConformanceDialect, ConformanceTarget, FailingFactories } from './conformance-target.js';
export { describeConformance } from './describe-conformance.js';
export { CONSTRAINTS, type ConformanceDB, createConformanceSchema } from './suite/conformance-schema.js';
export { CONFORMANCE_SECRET } from './suite/fixtures.js';
