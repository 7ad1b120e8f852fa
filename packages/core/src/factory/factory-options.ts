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
  readonly session?: Omit<SessionOptions, 'signal' | 'propagation'>;
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
}
