import { connect, type Socket } from 'node:net';

/** The protocol's CancelRequest code (1234 << 16 | 5678). */
const CANCEL_REQUEST_CODE = 80877102;

/** Where to send a cancel request and the key the server (or pooler) gave the connection at start-up. */
export interface CancelTarget {
  readonly host: string | undefined;
  readonly port: number | undefined;
  readonly processId: number;
  readonly secretKey: number;
}

/**
 * Sends the wire protocol's CancelRequest for the connection that received `processId` and
 * `secretKey` in its BackendKeyData, on a new plain socket, and resolves when the server
 * closes it (at most `timeoutMs`). Behind PgBouncer this is the only cancel that works: the key is PgBouncer's own,
 * PgBouncer forwards the request to whichever server connection runs the client's statement,
 * whereas `pg_cancel_backend(pid)` would need a server pid the client never sees. A host
 * starting with `/` is a Unix socket directory.
 *
 * @example
 * ```ts
 * await sendCancelRequest({ host: '127.0.0.1', port: 6432, processId, secretKey }, 5_000)
 * ```
 */
export function sendCancelRequest(target: CancelTarget, timeoutMs: number): Promise<void> {
  const port = target.port ?? 5432;
  const host = target.host ?? 'localhost';
  return new Promise((resolve, reject) => {
    const socket: Socket = host.startsWith('/') ? connect(`${host}/.s.PGSQL.${port}`) : connect(port, host);
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`cancel request: no answer within ${timeoutMs} ms`)));
    socket.on('connect', () => {
      const packet = Buffer.alloc(16);
      packet.writeInt32BE(16, 0);
      packet.writeInt32BE(CANCEL_REQUEST_CODE, 4);
      packet.writeInt32BE(target.processId, 8);
      packet.writeInt32BE(target.secretKey, 12);
      // Not end(): the server (or pooler) closes the socket once it has passed the cancel on, as
      // libpq waits for; closing first makes PgBouncer drop the request (1.18 may even abort).
      socket.write(packet);
    });
    socket.on('end', () => socket.end());
    socket.on('error', reject);
    socket.on('close', (hadError) => {
      if (!hadError) resolve();
    });
  });
}
