// first: refuses an older Node.js before anything else runs
import './node-guard.js';

export { classifySqliteError, type SqliteErrorContext } from './classify-sqlite-error.js';
export { sqlite } from './sqlite-adapter.js';
export type { SqliteConfig } from './sqlite-config.js';
