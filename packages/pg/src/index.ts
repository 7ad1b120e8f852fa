// first: refuses an older Node.js before anything else runs
import './node-guard.js';

export { classifyPostgresError } from './classify-postgres-error.js';
export { postgres } from './postgres.js';
export type { PostgresConfig } from './postgres-config.js';
