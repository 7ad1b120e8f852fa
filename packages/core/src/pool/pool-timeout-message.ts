import { redactPassword } from '../errors/redact.js';

/** What the `PoolTimeoutError` message reports. */
export interface PoolTimeoutFacts {
  readonly size: number;
  readonly maxOverflow: number;
  readonly timeoutMs: number;
  readonly inUse: number;
  readonly waiting: number;
  /** Where the pool connects (a URL with the password redacted), if known. */
  readonly description: string | undefined;
  /** A connection was being opened or pinged for this caller when time ran out. */
  readonly wasServing: boolean;
}

/**
 * The message of a `PoolTimeoutError`: the numbers that explain the wait, and the most common
 * cause (a session starving itself by querying outside its own transaction).
 */
export function poolTimeoutMessage(facts: PoolTimeoutFacts): string {
  const where = facts.description === undefined ? '' : ` to ${redactPassword(facts.description)}`;
  const serving = facts.wasServing
    ? ' The connection being opened or pinged for this caller did not arrive in time.'
    : '';
  return (
    `Timed out after ${facts.timeoutMs} ms waiting for a pooled connection${where} ` +
    `(pool size ${facts.size}, maxOverflow ${facts.maxOverflow}, ${facts.inUse} in use, ${facts.waiting} waiting).` +
    serving +
    ' Hint: a query run outside its session while that session holds a connection ' +
    '(e.g. using `sf.db` or another session inside `sf.session`) can exhaust the pool; ' +
    "use the session's `tx` inside it, or raise pool.size, pool.maxOverflow or pool.timeoutMs."
  );
}
