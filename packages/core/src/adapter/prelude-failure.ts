/** Errors of a `DriverConnection.executeAfter` call whose prelude (BEGIN) failed. */
const preludeFailures = new WeakSet<object>();

/**
 * Marks `error` as raised by a prelude statement of `executeAfter` (the transaction never
 * started, and the statement after it did not run). Returns the error, for `throw`.
 *
 * @example
 * ```ts
 * if (failedInPrelude) throw markPreludeFailed(error)
 * ```
 */
export function markPreludeFailed<E>(error: E): E {
  if (typeof error === 'object' && error !== null) preludeFailures.add(error);
  return error;
}

/** Whether `error` (or the driver error it wraps as `cause`) came from a failed prelude. */
export function isPreludeFailure(error: unknown): boolean {
  // Typed errors wrap the driver's error as `cause`; a few levels is all that ever occurs.
  for (let depth = 0; depth < 4 && typeof error === 'object' && error !== null; depth++) {
    if (preludeFailures.has(error)) return true;
    error = (error as { cause?: unknown }).cause;
  }
  return false;
}
