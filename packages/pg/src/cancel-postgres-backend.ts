import { cancelFromSeparateConnection, type DriverConnection } from '@sessionfactory/core/adapter';
import { CompiledQuery } from 'kysely';
import type { ClientConfig } from 'pg';
import { sendCancelRequest } from './cancel-request.js';
import type { PostgresConnection } from './postgres-connection.js';

/** A cancel that cannot connect quickly is useless; do not let it wait the full connect timeout. */
const CANCEL_CONNECT_TIMEOUT_MS = 5_000;

/**
 * Cancels whatever statement `connection`'s backend is running with
 * `SELECT pg_cancel_backend(<pid>)`, sent by core's `cancelFromSeparateConnection` from a
 * short-lived second connection (connect timeout at most 5 s) to the same server (with a
 * multi-host URL, the host `connection` went to). The cancelled statement fails
 * with SQLSTATE 57014; the backend itself stays open.
 *
 * @example
 * ```ts
 * await cancelPostgresBackend(clientConfig, connection, PostgresConnection.open)
 * ```
 */
export function cancelPostgresBackend(
  config: ClientConfig,
  connection: DriverConnection,
  openConnection: (config: ClientConfig, searchPath: undefined) => Promise<PostgresConnection>,
): Promise<void> {
  const connectionTimeoutMillis = Math.min(
    config.connectionTimeoutMillis || CANCEL_CONNECT_TIMEOUT_MS,
    CANCEL_CONNECT_TIMEOUT_MS,
  );
  const { host, port } = (connection as PostgresConnection).server ?? {};
  return cancelFromSeparateConnection(connection, {
    open: () => openConnection({ ...config, host, port, connectionTimeoutMillis }, undefined),
    statement: (pid) => CompiledQuery.raw('SELECT pg_cancel_backend($1)', [pid]),
  });
}

/**
 * Cancels the statement `connection` runs behind a transaction pooler: a protocol cancel request
 * with the key the pooler gave the connection, sent to the pooler (which forwards it to the
 * server connection running the statement). `pg_cancel_backend` cannot work there: the client
 * never learns the server's pid.
 *
 * @example
 * ```ts
 * await cancelThroughPooler(connection)
 * ```
 */
export async function cancelThroughPooler(connection: PostgresConnection): Promise<void> {
  const key = connection.cancelKey;
  if (key === undefined) return;
  await sendCancelRequest({ ...connection.server, ...key }, CANCEL_CONNECT_TIMEOUT_MS);
}
