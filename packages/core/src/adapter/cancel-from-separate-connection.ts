import type { CompiledQuery } from 'kysely';
import type { DriverConnection } from './adapter.js';

/** How a dialect cancels a statement from outside its connection. */
export interface SeparateConnectionCancel {
  /** Opens the short-lived control connection (the same server and credentials). */
  open(): Promise<DriverConnection>;
  /** The statement that cancels whatever server connection `serverId` runs (`KILL QUERY 42`). */
  statement(serverId: number): CompiledQuery;
  /** Errors of that statement meaning there is nothing left to cancel (the connection is gone). */
  isAlreadyGone?(error: unknown): boolean;
}

/**
 * Cancels the statement `target` is running the way server databases allow it: from a separate,
 * short-lived connection that runs one statement naming `target.serverId`, then is closed
 * whatever happens. A target without a positive integer `serverId` is left alone (nothing
 * reaches the server), so an id is never spliced into SQL unchecked. An error opening the
 * control connection, or from the statement (unless `isAlreadyGone` says so), is rethrown.
 *
 * @example
 * ```ts
 * await cancelFromSeparateConnection(busy, {
 *   open: () => MysqlDriverConnection.open(options),
 *   statement: (threadId) => CompiledQuery.raw(`KILL QUERY ${threadId}`),
 *   isAlreadyGone: (error) => (error as { errno?: unknown }).errno === 1094,
 * })
 * ```
 */
export async function cancelFromSeparateConnection(
  target: DriverConnection,
  how: SeparateConnectionCancel,
): Promise<void> {
  const serverId = target.serverId;
  if (typeof serverId !== 'number' || !Number.isSafeInteger(serverId) || serverId <= 0) return;
  const control = await how.open();
  try {
    await control.execute(how.statement(serverId));
  } catch (error) {
    if (how.isAlreadyGone?.(error) !== true) throw error;
  } finally {
    await control.close();
  }
}
