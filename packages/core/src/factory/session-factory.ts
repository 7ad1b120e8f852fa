import type { Compilable, Kysely } from 'kysely';
import type { AdapterCapabilities } from '../adapter/adapter.js';
import type { FactoryEvents } from '../events/event-types.js';
import type { PoolStats } from '../pool/pool-options.js';
import type { ParamFn, PreparedQuery } from '../prepare/prepared-query.js';
import type { SessionInfo, SessionOptions } from '../session/session-options.js';
import type { ManagedSession, Session, SyncSession } from '../session/session-types.js';

/** What `sf.ping()` reports. */
export interface PingResult {
  readonly latencyMs: number;
  readonly serverVersion: string;
}

/**
 * A factory of units of work over one database: owns the pool, hands out sessions that
 * commit on success and roll back on error.
 */
export interface SessionFactory<DB> extends AsyncDisposable {
  /** The adapter's dialect (`postgres`, `mysql`, `sqlite`, ...). */
  readonly dialect: string;
  /** What the adapter can do (isolation mapping, read-only, savepoints, cancel, sync). */
  readonly capabilities: AdapterCapabilities;
  /** Where it connects, password redacted. */
  readonly description: string;
  /** Runs `fn` in a transaction: COMMIT when it resolves, ROLLBACK and rethrow when it throws. */
  session<T>(fn: (tx: Session<DB>) => Promise<T>, options?: SessionOptions): Promise<T>;
  /** Opens a transaction (BEGIN already sent) for `await using s = await sf.begin()`. */
  begin(options?: Omit<SessionOptions, 'retry'>): Promise<ManagedSession<DB>>;
  /** Runs `fn` with a Kysely pinned to one connection in autocommit mode. */
  connection<T>(fn: (db: Kysely<DB>) => Promise<T>): Promise<T>;
  /** The same unit of work, synchronously. */
  syncSession<T>(fn: (tx: SyncSession<DB>) => T, options?: Omit<SessionOptions, 'signal' | 'retry'>): T;
  /** Kysely that joins the ambient session of this factory, else runs each query on a pooled connection. */
  readonly db: Kysely<DB>;
  /**
   * Compiles a query once, with named parameters, for running many times (`execute(params)` runs
   * like `sf.db`; `compile(params)` feeds `tx.executeQuery` or a sync session's `tx.all/get/run`).
   */
  prepare<P = Record<string, never>, O = unknown>(
    build: (db: Kysely<DB>, param: ParamFn<P>) => Compilable<O>,
  ): PreparedQuery<P, O>;
  /**
   * The position of the last write committed through this factory (factories with `replicas`),
   * for the session option `after` in another process; undefined before any write.
   */
  consistencyToken(): string | undefined;
  /** The ambient session of this factory, if any. */
  current(): SessionInfo | undefined;
  ping(): Promise<PingResult>;
  stats(): PoolStats;
  on<E extends keyof FactoryEvents>(event: E, listener: (payload: FactoryEvents[E]) => void): () => void;
  off<E extends keyof FactoryEvents>(event: E, listener: (payload: FactoryEvents[E]) => void): void;
  /** Refuse new sessions, wait for in-flight ones up to the deadline, then destroy every connection. */
  close(options?: { timeoutMs?: number }): Promise<void>;
  readonly isClosed: boolean;
}
