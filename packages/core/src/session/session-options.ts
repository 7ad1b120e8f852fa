import type { IsolationLevel } from '../adapter/adapter.js';
import type { ServerName } from '../events/event-types.js';

/**
 * How a scope relates to a session already open around it (Spring's propagation modes).
 * - `required` (default): join the ambient session, else start one.
 * - `requiresNew`: always start an independent session on another connection.
 * - `nested`: a savepoint inside the ambient session, else start one.
 * - `mandatory`: join the ambient session; `PropagationError` if there is none.
 * - `never`: run without a session; `PropagationError` if one is open.
 * - `supports`: join if there is one, else run without a transaction.
 * - `notSupported`: run without a transaction even inside one (on another connection).
 */
export type Propagation = 'required' | 'requiresNew' | 'nested' | 'mandatory' | 'never' | 'supports' | 'notSupported';

/** All propagation modes. */
export const PROPAGATIONS: readonly Propagation[] = [
  'required',
  'requiresNew',
  'nested',
  'mandatory',
  'never',
  'supports',
  'notSupported',
];

/** Retry policy for errors whose `retryable` is true and for connection errors before COMMIT (see `shouldRetry`); only a top-level session retries. */
export interface RetryOptions {
  /** Total attempts including the first (so `3` means up to two retries). */
  readonly attempts: number;
  /** First backoff; doubled each attempt, with full jitter. Default 10. */
  readonly baseDelayMs?: number;
  /** Backoff ceiling. Default 1000. */
  readonly maxDelayMs?: number;
}

/** Options for one session; `FactoryOptions.session` supplies defaults. */
export interface SessionOptions {
  readonly isolation?: IsolationLevel;
  readonly readOnly?: boolean;
  /** Deadline for the whole session: cancel the running statement, roll back, throw `TransactionTimeoutError`. */
  readonly timeoutMs?: number;
  /** Same effect as a timeout when it aborts. */
  readonly signal?: AbortSignal;
  /** `number` = attempts. */
  readonly retry?: number | RetryOptions;
  readonly propagation?: Propagation;
  /**
   * A consistency token from `sf.consistencyToken()` (possibly of another process): a read-only
   * session runs on a replica that has replayed every write up to it, or waits for one up to
   * `replicaWaitMs`, else on the primary. Ignored without `replicas` (the primary has every write).
   *
   * @example
   * ```ts
   * const token = req.cookies.sfToken // set from sf.consistencyToken() after the write
   * await sf.session((tx) => tx.selectFrom('post').selectAll().execute(), { readOnly: true, after: token })
   * ```
   */
  readonly after?: string;
}

/** What `tx.info` and `sf.current()` report about a session. */
export interface SessionInfo {
  /** Unique per factory, e.g. `s42`. */
  readonly id: string;
  /** 0 for the outermost scope, +1 per savepoint. */
  readonly depth: number;
  /** The level the server really runs, or undefined for its default. */
  readonly isolation: IsolationLevel | undefined;
  readonly readOnly: boolean;
  /** False inside `supports`/`notSupported`/`never` scopes that run without a transaction. */
  readonly transactional: boolean;
  /** Where the session runs: `'primary'`, or `'replica:<index>'` for a read-only session routed to a replica. */
  readonly server: ServerName;
}

/**
 * A new transaction's options: the factory's session defaults (`FactoryOptions.session`) under
 * the session's own. `defaults` is `undefined` when the factory set none; then the session's
 * object is used as it is (no copy per session). Both executors and `sf.begin()` merge here.
 */
export function withSessionDefaults<O extends object>(defaults: object | undefined, options: O): O {
  return defaults === undefined ? options : { ...defaults, ...options };
}

/** `defaults`, or `undefined` when it sets nothing (what `withSessionDefaults` takes). */
export function sessionDefaultsOrNone<D extends object>(defaults: D): D | undefined {
  return Object.keys(defaults).length === 0 ? undefined : defaults;
}
