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
  /** Set when the caller waited for a writer slot (a database that runs `max` writers at a time). */
  readonly writers?: { readonly max: number; readonly waiting: number } | undefined;
  /** The connection checked out longest ago, if any is checked out. */
  readonly oldestHolder?: HolderFacts | undefined;
}

/** The longest-held checked-out connection, as a timeout message names it. */
export interface HolderFacts {
  readonly connectionId: number;
  /** The session holding it, if known. */
  readonly holder: string | undefined;
  readonly heldMs: number;
  /** Where it was acquired (only with `leakDetectionMs` set). */
  readonly stack: string | undefined;
}

/** Frames of the acquisition stack a timeout message shows (the leak event has them all). */
const MESSAGE_FRAMES = 5;

/**
 * The message of a `PoolTimeoutError`: the numbers that explain the wait, and the most common
 * cause (a session starving itself by querying outside its own transaction).
 */
export function poolTimeoutMessage(facts: PoolTimeoutFacts): string {
  const where = facts.description === undefined ? '' : ` to ${redactPassword(facts.description)}`;
  if (facts.writers !== undefined) return writerTimeoutMessage(facts, facts.writers, where);
  const serving = facts.wasServing
    ? ' The connection being opened or pinged for this caller did not arrive in time.'
    : '';
  return (
    `Timed out after ${facts.timeoutMs} ms waiting for a pooled connection${where} ` +
    `(pool size ${facts.size}, maxOverflow ${facts.maxOverflow}, ${facts.inUse} in use, ${facts.waiting} waiting).` +
    serving +
    ' Hint: a query run outside its session while that session holds a connection ' +
    '(e.g. using `sf.db` or another session inside `sf.session`) can exhaust the pool; ' +
    "use the session's `tx` inside it, or raise pool.size, pool.maxOverflow or pool.timeoutMs." +
    holderSentence(facts.oldestHolder)
  );
}

// A writer that never got the writer slot: say so, and name the usual cause (a writing session
// that waits for another writing session it started).
function writerTimeoutMessage(
  facts: PoolTimeoutFacts,
  writers: { max: number; waiting: number },
  where: string,
): string {
  return (
    `Timed out after ${facts.timeoutMs} ms waiting for the write slot${where}: this database runs ` +
    `${writers.max} writing session(s) at a time and ${writers.waiting} writer(s) were waiting ` +
    `(pool size ${facts.size}, maxOverflow ${facts.maxOverflow}, ${facts.inUse} in use).` +
    ' Hint: a writing session that awaits another writing session outside itself (propagation "requiresNew", ' +
    'or sf.connection or sf.begin inside sf.session) waits for itself; use the enclosing `tx`, mark sessions ' +
    'that only read { readOnly: true } (they run beside the writer), keep writing sessions short, or raise pool.timeoutMs.' +
    holderSentence(facts.oldestHolder)
  );
}

/**
 * Names the connection held longest: by whom, for how long, and where it was acquired when
 * leak detection captured it (else how to find out).
 */
function holderSentence(oldest: HolderFacts | undefined): string {
  if (oldest === undefined) return '';
  const who = oldest.holder === undefined ? '' : `, session ${oldest.holder}`;
  const head = ` The oldest connection in use (connection ${oldest.connectionId}${who}) has been held for ${Math.round(oldest.heldMs)} ms`;
  if (oldest.stack === undefined) return `${head}; set pool.leakDetectionMs to learn where it was acquired.`;
  const frames = oldest.stack.split('\n').slice(0, MESSAGE_FRAMES).join('\n');
  return `${head}; it was acquired at:\n${frames}`;
}
