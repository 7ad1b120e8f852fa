import { Client, type ClientConfig } from 'pg';

/** A cancel that cannot connect quickly is useless; do not let it wait the full connect timeout. */
const CANCEL_CONNECT_TIMEOUT_MS = 5_000;

/**
 * Cancels whatever statement backend `pid` is running, from a separate short-lived
 * connection (`SELECT pg_cancel_backend($1)`). The cancelled statement fails with SQLSTATE
 * 57014; the backend itself stays open.
 *
 * @example
 * ```ts
 * await cancelPostgresBackend(clientConfig, connection.serverId)
 * ```
 */
export async function cancelPostgresBackend(config: ClientConfig, pid: number): Promise<void> {
  const client = new Client({
    ...config,
    connectionTimeoutMillis: Math.min(
      config.connectionTimeoutMillis || CANCEL_CONNECT_TIMEOUT_MS,
      CANCEL_CONNECT_TIMEOUT_MS,
    ),
  });
  client.on('error', () => {
    // Errors surface through the awaited calls below; this only keeps an idle-socket error from crashing.
  });
  try {
    await client.connect();
    await client.query({ text: 'SELECT pg_cancel_backend($1)', values: [pid] });
  } finally {
    await client.end().catch(() => {});
  }
}
