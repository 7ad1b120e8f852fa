import type { IsolationLevel } from '../adapter/adapter.js';

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
}
