// first: refuses an older Node.js before anything else runs
import '../util/node-guard.js';

// The adapter-author API of @sessionfactory/core: the SPI an adapter implements, and the
// helpers the bundled adapters share (config and URL parsing, cancel, connection loss,
// error conversion). Applications import from '@sessionfactory/core' instead.

export { hideSecrets, redactPassword, redactSecrets } from '../errors/redact.js';
export { errorFromJSON, isConnectionLost, toSessionFactoryError } from '../errors/to-session-factory-error.js';
export type { SyncConnection } from '../sync/sync-connection.js';
export * from './adapter.js';
export * from './cancel-from-separate-connection.js';
export * from './config-checks.js';
export * from './config-problem.js';
export * from './connection-loss.js';
export * from './connection-url.js';
export * from './control-characters.js';
export * from './describe-server.js';
export * from './host-list.js';
export * from './lock-wait.js';
export * from './multi-host-connector.js';
export * from './prefer-tls.js';
export * from './server-config.js';
export * from './worker-support.js';
