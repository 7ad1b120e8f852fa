export { classifyPostgresError } from './classify-postgres-error.js';
export { postgres } from './postgres.js';
export type { PostgresConfig } from './postgres-config.js';
