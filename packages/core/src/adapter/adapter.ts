import type { CompiledQuery, DatabaseIntrospector, DialectAdapter, Kysely, QueryCompiler, QueryResult } from 'kysely';
import type { ErrorCode } from '../errors/error-codes.js';

/** The four ANSI isolation levels a session may ask for. */
export type IsolationLevel = 'read uncommitted' | 'read committed' | 'repeatable read' | 'serializable';

/** All isolation levels, weakest first. */
export const ISOLATION_LEVELS: readonly IsolationLevel[] = [
  'read uncommitted',
  'read committed',
  'repeatable read',
  'serializable',
];

/** Dialect names the bundled adapters use; third-party adapters may add their own. */
export type DialectName = 'postgres' | 'mysql' | 'sqlite' | (string & {});

/** What a transaction is opened with, after core has resolved the effective isolation. */
export interface BeginOptions {
  /** The level the server really runs (from `capabilities.isolation`), or undefined for its default. */
  readonly isolation?: IsolationLevel | undefined;
  readonly readOnly: boolean;
  /** The session option `after` (a consistency token): used by core's replica routing, never by BEGIN. */
  readonly after?: string | undefined;
}

/**
 * The dialect's transaction SQL, as data. Core runs these statements; the adapter never
 * drives a transaction itself. Savepoint names reach these functions as identifiers: core's
 * own (`sp_1`, `sp_2`, ...) or a user's name already quoted by the dialect's query compiler.
 *
 * The commit-outcome contract: `execute(commit)` resolves only if the server committed. A
 * COMMIT the server answers with ROLLBACK (Postgres, after an error in the transaction) must
 * reject; a connection lost while COMMIT is in flight must reject with an error the
 * classifier marks `connectionLost`, and core then reports the outcome as unknown.
 */
export interface DialectSql {
  /** Statements that open a transaction, run in order (MySQL needs SET TRANSACTION first). */
  begin(options: BeginOptions): readonly string[];
  readonly commit: string;
  readonly rollback: string;
  savepoint(name: string): string;
  /** Optional: without it a savepoint is kept until the transaction ends (harmless, if wasteful). */
  releaseSavepoint?(name: string): string;
  rollbackToSavepoint(name: string): string;
  /** Statements run after COMMIT/ROLLBACK to restore connection state (SQLite's `PRAGMA query_only`). */
  afterEnd?(options: BeginOptions): readonly string[];
}

/**
 * What an adapter can do. Core validates session options against these and the
 * conformance suite skips a case only where a capability says the adapter cannot.
 */
export interface AdapterCapabilities {
  /**
   * For each requested level, the level the server really runs. A level that is missing
   * is unsupported (`UnsupportedFeatureError`). Never map to a weaker level.
   */
  readonly isolation: Readonly<Partial<Record<IsolationLevel, IsolationLevel>>>;
  /** Read-only sessions are enforced by the database (writes fail with `ReadOnlyViolationError`). */
  readonly readOnly: boolean;
  readonly savepoints: boolean;
  /** `adapter.cancel` can stop a running statement from outside its connection. */
  readonly cancel: boolean;
  /** How `syncSession` runs: natively on the connection, through core's worker bridge, or not at all. */
  readonly sync: 'native' | 'worker' | false;
  /** Separate connections see one database (false for SQLite `:memory:`). */
  readonly sharedDatabase: boolean;
  /** DDL takes part in transactions (Postgres, SQLite) instead of committing implicitly (MySQL). */
  readonly transactionalDdl: boolean;
  /** `INSERT ... RETURNING` is available. */
  readonly returning: boolean;
  /**
   * Session state (SET, temporary tables, advisory locks, LISTEN) stays with a connection from
   * one transaction to the next. False behind a transaction pooler (PgBouncer with
   * `pool_mode = transaction`), where each transaction may run on another server connection, so
   * `sf.connection(fn)` cannot carry state between its statements. Unset means true.
   */
  readonly sessionState?: boolean;
  /** Concurrency errors the database really raises (SQLite has one writer: no deadlocks). */
  readonly concurrencyErrors: readonly ('SERIALIZATION_FAILURE' | 'DEADLOCK' | 'LOCK_TIMEOUT')[];
}

/**
 * One physical connection, as the adapter's thin driver shim exposes it. Core's pool owns
 * it; core decides when it is opened, pinged, checked out and destroyed.
 */
export interface DriverConnection {
  /** The server's id for this connection (Postgres backend pid, MySQL thread id), used to cancel. */
  readonly serverId?: number | string | undefined;
  /** True once the driver reported the connection dead (error event, closed socket). */
  readonly broken?: boolean;
  execute(query: CompiledQuery): Promise<QueryResult<unknown>>;
  /**
   * Optional, for drivers that run statements on the calling thread (better-sqlite3): `execute`
   * without its promise. Runs the statement at once and returns its result, or returns a
   * promise only when it has to wait (a lock held elsewhere, waited for without blocking the
   * event loop); errors may be thrown. Core uses it on the hot path, where the promises of
   * `execute` cost more than the statement's own bookkeeping.
   */
  executeNow?(query: CompiledQuery): QueryResult<unknown> | Promise<QueryResult<unknown>>;
  /**
   * Optional: runs `prelude` (transaction-control statements without parameters, such as
   * BEGIN) and then `query` in one network write, and returns `query`'s result. Core sends a
   * session's BEGIN this way with its first statement, saving a round trip. When a prelude
   * statement fails, nothing after it may run, and the rejection must be marked with
   * `markPreludeFailed`: core then sends nothing more on the connection and destroys it.
   * A driver whose server runs every command it was sent, even after one failed (MySQL), sets
   * `preludeFailureRunsQuery` instead of stopping the query.
   */
  executeAfter?(prelude: readonly string[], query: CompiledQuery): Promise<QueryResult<unknown>>;
  /**
   * True when `executeAfter` cannot stop `query` after a failed prelude statement: the query
   * would then run in autocommit. Core gives such a connection only a plain Kysely SELECT
   * (`isReplicaSafe`) to carry BEGIN; any other first statement waits for BEGIN on its own.
   */
  readonly preludeFailureRunsQuery?: boolean;
  /** Streams rows in chunks (optional; Kysely's `.stream()` needs it). */
  stream?(query: CompiledQuery, chunkSize: number): AsyncIterableIterator<QueryResult<unknown>>;
  /** Runs a query synchronously (adapters with `capabilities.sync === 'native'`). */
  executeSync?(query: CompiledQuery): QueryResult<unknown>;
  /** Whether the driver sees an open transaction; lets core notice a server-side auto-rollback. */
  inTransaction?(): boolean;
  /**
   * Returns the connection to the state of a fresh one (session variables, temporary tables,
   * prepared statements, session locks), after `sf.connection(fn)`. Without it core destroys
   * such a connection instead of pooling it.
   */
  reset?(): Promise<void>;
  /** A cheap round trip that proves the connection works. */
  ping(): Promise<void>;
  serverVersion(): Promise<string>;
  close(): Promise<void>;
}

/** What the adapter's classifier says a driver error is. Core turns it into a typed error. */
export interface ErrorClassification {
  readonly code: ErrorCode;
  readonly originalCode?: string | number | undefined;
  readonly originalMessage?: string | undefined;
  readonly constraint?: string | undefined;
  readonly table?: string | undefined;
  readonly column?: string | undefined;
  /** The connection can no longer be trusted (implied for `CONNECTION`). */
  readonly connectionLost?: boolean | undefined;
}

/** How a worker thread rebuilds an adapter: `(await import(module))[exportName](...args)`. */
export interface WorkerSpec {
  readonly module: string;
  readonly exportName: string;
  /** Structured-clonable arguments. */
  readonly args: readonly unknown[];
}

/** The Kysely pieces that compile queries for this dialect. */
export interface KyselyDialectParts {
  createAdapter(): DialectAdapter;
  createQueryCompiler(): QueryCompiler;
  createIntrospector(db: Kysely<any>): DatabaseIntrospector;
}

/**
 * The adapter SPI: data plus a thin driver shim. Everything else (pool, transactions,
 * savepoints, propagation, retries, timeouts, hooks) lives in core.
 *
 * @example
 * ```ts
 * import { createSessionFactory } from '@sessionfactory/core'
 * import { postgres } from '@sessionfactory/pg'
 *
 * const adapter: Adapter = postgres('postgres://app@localhost/app')
 * const sf = createSessionFactory<DB>(adapter)
 * ```
 */
export interface Adapter {
  readonly dialect: DialectName;
  /** Where it connects, with any password redacted: used in messages and logs. */
  readonly description: string;
  readonly capabilities: AdapterCapabilities;
  readonly sql: DialectSql;
  readonly kysely: KyselyDialectParts;
  /** Pool defaults and hard limits (SQLite: size 1; `:memory:` allows one connection only). */
  readonly poolDefaults?: { readonly size?: number; readonly maxOverflow?: number };
  readonly maxConnections?: number;
  /**
   * Write transactions the database runs at once, when it has such a limit (SQLite: 1). Core's
   * pool then lets that many writing checkouts hold a connection and queues the others in
   * process, first come first served, within `pool.timeoutMs`; read-only sessions and `sf.db`
   * statements outside a session use the other connections beside the writer. Unset: no limit.
   */
  readonly maxWriters?: number;
  connect(): Promise<DriverConnection>;
  /** Opens a connection synchronously (native sync adapters). */
  connectSync?(): DriverConnection;
  /** Cancels the statement running on `connection` from a separate connection. */
  cancel?(connection: DriverConnection): Promise<void>;
  classifyError(error: unknown): ErrorClassification | undefined;
  /** Set by adapters whose sync scope runs through core's worker bridge. */
  readonly workerSpec?: WorkerSpec;
  /** Releases adapter-level resources (not pooled connections, which core closes). */
  close?(): Promise<void>;
  /** Read replicas (`FactoryOptions.replicas`): how this database reports replication positions. */
  readonly replication?: ReplicationSupport;
}

/**
 * Read-replica support of an adapter, as data plus pure functions: core owns the routing
 * (replica pools, health, lag, read-your-writes); the adapter says how to read positions.
 * A position is an opaque string (a Postgres WAL LSN such as `0/3000148`, a MariaDB GTID set
 * such as `0-1-42,1-2-7`) that only the adapter compares.
 *
 * @example
 * ```ts
 * const replication: ReplicationSupport = {
 *   positionSql: 'SELECT pg_current_wal_lsn()::text AS position',
 *   replicaStatusSql: 'SELECT pg_last_wal_replay_lsn()::text AS position, 0 AS lag_ms',
 *   isPosition: (token) => /^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/i.test(token),
 *   hasReached: (replayed, target) => lsn(replayed) >= lsn(target),
 *   combine: (a, b) => (lsn(a) >= lsn(b) ? a : b),
 *   replicaAdapter: (url) => postgres(url),
 * }
 * ```
 */
export interface ReplicationSupport {
  /**
   * Run on the primary after a write committed (on the same connection): one row whose
   * `position` column covers that commit (Postgres `pg_current_wal_lsn()`, MariaDB
   * `@@gtid_binlog_pos`).
   */
  readonly positionSql: string;
  /**
   * Run on a replica: one row with `position` (what it has replayed; null when unknown) and
   * `lag_ms` (how far behind the primary it is in milliseconds; 0 when it has replayed all it
   * received, null when unknown).
   */
  readonly replicaStatusSql: string;
  /**
   * Reads the status row when its columns are not `position` and `lag_ms` (a `SHOW` statement
   * cannot alias them: MariaDB's `SHOW SLAVE STATUS` has `Gtid_Slave_Pos` and
   * `Seconds_Behind_Master`). Undefined values mean unknown.
   */
  parseStatus?(row: Readonly<Record<string, unknown>>): {
    readonly position: string | undefined;
    readonly lagMs: number | undefined;
  };
  /**
   * Optional server-side wait (MariaDB `MASTER_GTID_WAIT(?, ?)`): a query whose one row has a
   * truthy `reached` column once the replica replayed `position`, or a falsy one after
   * `timeoutMs`. Without it core polls `replicaStatusSql`.
   */
  waitForPosition?(position: string, timeoutMs: number): CompiledQuery;
  /** Whether `token` is a well-formed position (tokens come from clients: a cookie, a header). */
  isPosition(token: string): boolean;
  /** Whether a replica that replayed `replayed` has every write up to `target`. */
  hasReached(replayed: string, target: string): boolean;
  /** One position covering both (the later LSN; the union of two GTID sets). */
  combine(a: string, b: string): string;
  /** An adapter of the same kind for a replica given as a URL string in `replicas`. */
  replicaAdapter(url: string): Adapter;
}
