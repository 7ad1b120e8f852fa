import { ConfigurationError } from '../errors/error-classes.js';
import { SessionFactoryError } from '../errors/session-factory-error.js';
import type { RetryOptions } from './session-options.js';

/** A validated retry policy. */
export interface RetryPolicy {
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

const NO_RETRY: RetryPolicy = { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 };

/**
 * Validates `retry` (a number of attempts or `{ attempts, baseDelayMs, maxDelayMs }`).
 */
export function resolveRetryPolicy(retry: number | RetryOptions | undefined): RetryPolicy {
  if (retry === undefined) return NO_RETRY;
  const options = typeof retry === 'number' ? { attempts: retry } : retry;
  const policy = {
    attempts: options.attempts,
    baseDelayMs: options.baseDelayMs ?? 10,
    maxDelayMs: options.maxDelayMs ?? 1000,
  };
  if (!Number.isInteger(policy.attempts) || policy.attempts < 1) {
    throw new ConfigurationError(
      `Invalid retry attempts: ${JSON.stringify(options.attempts)}. Use a whole number >= 1 (total attempts, including the first).`,
    );
  }
  for (const key of ['baseDelayMs', 'maxDelayMs'] as const) {
    if (!Number.isFinite(policy[key]) || policy[key] < 0) {
      throw new ConfigurationError(
        `Invalid retry.${key}: ${JSON.stringify(policy[key])}. Use a number of milliseconds >= 0.`,
      );
    }
  }
  return policy;
}

/**
 * Whether the `retry` option runs a unit of work again after `error`: a typed error that is
 * `retryable` (serialization failure, deadlock, lock timeout), or a `ConnectionError` (the
 * connection could not be opened or was lost before COMMIT: nothing was committed, and the next
 * attempt gets a fresh connection, after a failover on the new primary). Never when the
 * connection was lost during COMMIT (`commitOutcomeUnknown`): the first attempt may have committed.
 *
 * @example
 * ```ts
 * shouldRetry(new DeadlockError('...'))   // true
 * shouldRetry(new ConnectionError('...')) // true, unless lost while COMMIT was in flight
 * ```
 */
export function shouldRetry(error: unknown): boolean {
  if (!(error instanceof SessionFactoryError) || error.commitOutcomeUnknown) return false;
  return error.retryable || error.code === 'CONNECTION';
}

/**
 * Full-jitter exponential backoff before attempt `attempt + 1`: spreads retrying sessions
 * apart so they do not collide again.
 */
export function backoffDelay(attempt: number, policy: RetryPolicy): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.random() * ceiling;
}
