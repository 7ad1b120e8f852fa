// first: refuses an older Node.js before anything else runs
import './node-guard.js';

export type { MysqlConfig, MysqlDriverOptions } from './config/mysql-config.js';
export { classifyMysqlError } from './errors/classify-mysql-error.js';
export { mysql } from './mysql-adapter.js';
