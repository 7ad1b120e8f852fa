import type { Adapter } from '../adapter/adapter.js';
import type { QueryEvent } from '../events/event-types.js';
import type { PoolOptions } from '../pool/pool-options.js';
import type { SessionOptions } from '../session/session-options.js';
import type { TelemetryOptions } from '../telemetry/telemetry-options.js';

/** Options of `createSessionFactory` / `openSessionFactory`. */
export interface FactoryOptions {
  readonly pool?: PoolOptions;
  /** `true` logs each statement to stderr; a function receives each `QueryEvent`. */
  readonly echo?: boolean | ((event: QueryEvent) => void);
  /** Include bound parameters in `echo` and `query` events. Default false. */
  readonly logParameters?: boolean;
  /** Defaults for every session (a session's own options win). */
  readonly session?: Omit<SessionOptions, 'signal' | 'propagation' | 'after'>;
  /**
   * OpenTelemetry spans and pool metrics. Left out: the globally registered providers, if any
   * (checked once, when the factory is created); `false`: none.
   */
  readonly telemetry?: TelemetryOptions | false;
  /** Worker-backed sync scopes (Postgres, MySQL). */
  readonly sync?: {
    /** Connections the worker keeps. Default 1. */
    readonly poolSize?: number;
    /** Longest the main thread blocks on one sync call. Default: `session.timeoutMs`, else 30000. */
    readonly callTimeoutMs?: number;
  };
  /**
   * Read replicas of the primary: URLs (opened with the primary adapter's kind) or adapters.
   * Read-only sessions and `sf.db` SELECTs outside a session run on a replica that has replayed
   * this factory's last write (read-your-writes by position); everything else on the primary.
   * Each replica gets its own pool with the `pool` settings.
   *
   * @example
   * ```ts
   * const sf = createSessionFactory<DB>(postgres(process.env.DATABASE_URL!), {
   *   replicas: ['postgres://app@replica-1/app', 'postgres://app@replica-2/app'],
   *   replicaWaitMs: 500,
   * })
   * await sf.session((tx) => tx.selectFrom('post').selectAll().execute(), { readOnly: true }) // a replica
   * ```
   */
  readonly replicas?: readonly (string | Adapter)[];
  /**
   * How long a read waits for a replica to replay the writes it must see before it runs on the
   * primary instead. Default 1000; 0 never waits.
   *
   * @example
   * ```ts
   * createSessionFactory(adapter, { replicas, replicaWaitMs: 0 }) // behind? read the primary at once
   * ```
   */
  readonly replicaWaitMs?: number;
  /**
   * A replica whose replay lag exceeds this is skipped (and checked again a second later).
   * Default 30000.
   *
   * @example
   * ```ts
   * createSessionFactory(adapter, { replicas, maxReplicaLagMs: 5000 })
   * ```
   */
  readonly maxReplicaLagMs?: number;
}
