export { classifySqliteError, type SqliteErrorContext } from './classify-sqlite-error.js';
export { sqlite } from './sqlite-adapter.js';
export type { SqliteConfig } from './sqlite-config.js';
