import type { DriverConnection } from '@sessionfactory/core';
import { CompiledQuery } from 'kysely';
import type { ConnectionOptions } from 'mysql2';
import { MysqlDriverConnection } from './mysql-driver-connection.js';

const ER_NO_SUCH_THREAD = 1094;

/**
 * Stops the statement `connection` is running with `KILL QUERY <thread id>`, sent from a
 * separate short-lived connection (MySQL has no cancel request in its protocol). The
 * interrupted statement fails with error 1317; the connection and its transaction stay
 * open. Does nothing when the connection runs no statement, so a late cancel does not
 * interrupt the next one.
 *
 * @example
 * ```ts
 * setTimeout(() => cancelMysqlQuery(connectionOptions, busy), 1000)
 * await busy.execute(CompiledQuery.raw('SELECT SLEEP(10)')) // rejects: Query execution was interrupted
 * ```
 */
export async function cancelMysqlQuery(
  options: Readonly<ConnectionOptions>,
  connection: DriverConnection,
): Promise<void> {
  if (connection instanceof MysqlDriverConnection && !connection.running) return;
  const threadId = connection.serverId;
  // Only an integer ever reaches the KILL statement.
  if (typeof threadId !== 'number' || !Number.isSafeInteger(threadId) || threadId <= 0) return;
  const control = await MysqlDriverConnection.open(options);
  try {
    await control.execute(CompiledQuery.raw(`KILL QUERY ${threadId}`));
  } catch (error) {
    // 1094 "Unknown thread id": the connection is gone, so nothing runs there any more.
    if ((error as { errno?: unknown }).errno !== ER_NO_SUCH_THREAD) throw error;
  } finally {
    await control.close();
  }
}
