import { cancelFromSeparateConnection, type DriverConnection } from '@sessionfactory/core/adapter';
import { CompiledQuery } from 'kysely';
import type { ConnectionOptions } from 'mysql2';
import { MysqlDriverConnection } from './mysql-driver-connection.js';

const ER_NO_SUCH_THREAD = 1094;

/**
 * Stops the statement `connection` is running with `KILL QUERY <thread id>`, sent by core's
 * `cancelFromSeparateConnection` from a short-lived second connection (MySQL has no cancel
 * request in its protocol). The interrupted statement fails with error 1317; the connection and
 * its transaction stay open. Does nothing when the connection runs no statement, so a late
 * cancel does not interrupt the next one.
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
  openConnection: (options: Readonly<ConnectionOptions>) => Promise<MysqlDriverConnection> = MysqlDriverConnection.open,
): Promise<void> {
  if (connection instanceof MysqlDriverConnection && !connection.running) return;
  await cancelFromSeparateConnection(connection, {
    open: () => openConnection(options),
    // KILL takes no parameters; core only passes a positive safe integer.
    statement: (threadId) => CompiledQuery.raw(`KILL QUERY ${threadId}`),
    // 1094 "Unknown thread id": the connection is gone, so nothing runs there any more.
    isAlreadyGone: (error) => (error as { errno?: unknown }).errno === ER_NO_SUCH_THREAD,
  });
}
