// first: refuses an older Node.js before anything else runs
import './util/node-guard.js';

// The application API of @sessionfactory/core. Adapter authors find the SPI and its helpers
// in '@sessionfactory/core/adapter'; tests find the fake adapter in '@sessionfactory/core/testing'.
export type { AdapterCapabilities, DialectName, IsolationLevel } from './adapter/adapter.js';
export { type Adapter, ISOLATION_LEVELS } from './adapter/adapter.js';
export {
  AuthenticationError,
  CheckViolationError,
  ConfigurationError,
  ConnectionError,
  DatabaseError,
  DatabaseNotFoundError,
  DeadlockError,
  ERROR_CLASSES,
  type ErrorClass,
  ExclusionViolationError,
  FactoryClosedError,
  ForeignKeyViolationError,
  LockTimeoutError,
  NotNullViolationError,
  PoolTimeoutError,
  PropagationError,
  ReadOnlyViolationError,
  SerializationFailureError,
  SessionClosedError,
  SqlSyntaxError,
  StatementTimeoutError,
  TransactionTimeoutError,
  UndefinedColumnError,
  UndefinedTableError,
  UnexpectedRollbackError,
  UniqueViolationError,
  UnsupportedFeatureError,
} from './errors/error-classes.js';
export { ERROR_CODES, type ErrorCode } from './errors/error-codes.js';
export { type ErrorDetails, type SerializedError, SessionFactoryError } from './errors/session-factory-error.js';
export type {
  CommitEvent,
  ConnectionEvent,
  ErrorEvent,
  FactoryEvents,
  InvalidateEvent,
  LeakEvent,
  QueryEvent,
  ReplicaHealthEvent,
  RollbackEvent,
  RouteEvent,
  ServerName,
} from './events/event-types.js';
export { createSessionFactory } from './factory/create-session-factory.js';
export type { FactoryOptions } from './factory/factory-options.js';
export { type OpenSessionFactoryOptions, openSessionFactory } from './factory/open-session-factory.js';
export type { PingResult, SessionFactory } from './factory/session-factory.js';
export type { PoolOptions, PoolStats } from './pool/pool-options.js';
export { type ParamFn, PreparedQuery } from './prepare/prepared-query.js';
export { isReplicaSafe } from './replicas/read-only-query.js';
export {
  PROPAGATIONS,
  type Propagation,
  type RetryOptions,
  type SessionInfo,
  type SessionOptions,
} from './session/session-options.js';
export type {
  ManagedSession,
  Session,
  SessionHook,
  SyncQuery,
  SyncRunResult,
  SyncSession,
} from './session/session-types.js';
export type { MeterProviderLike, TelemetryOptions, TracerProviderLike } from './telemetry/telemetry-options.js';
export { type AdapterModule, findAdapterExport, provideAdapterModules } from './util/adapter-modules.js';
export { assertNodeVersion, NODE_FLOOR, nodeVersionProblem } from './util/node-floor.js';
