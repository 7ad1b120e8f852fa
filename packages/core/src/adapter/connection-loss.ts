/**
 * Node socket error codes (`error.code`) that mean a connection could not be made or was lost,
 * whatever the driver. Adapters add their driver's own codes to these.
 */
export const SOCKET_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * Whether a SQLSTATE is in class `08` (connection exception), which the SQL standard reserves
 * for a connection that failed or is gone.
 *
 * @example
 * ```ts
 * isConnectionExceptionState('08006') // true
 * isConnectionExceptionState('23505') // false
 * isConnectionExceptionState(undefined) // false
 * ```
 */
export function isConnectionExceptionState(sqlState: unknown): boolean {
  return typeof sqlState === 'string' && sqlState.startsWith('08');
}

/** The events of a driver's connection object that say it is gone (pg `Client`, mysql2 `Connection`). */
export interface ConnectionLossEvents {
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
}

/**
 * Calls `onLost` when the driver reports its connection dead: an `error` (a killed backend, a
 * dropped socket) or an `end`. Listening for `error` is what keeps an error on an idle
 * connection from crashing the process as an unhandled `error` event; the connection is only
 * marked, and core's pool then discards it.
 *
 * @example
 * ```ts
 * watchConnectionLoss(client, () => {
 *   this.#broken = true
 * })
 * ```
 */
export function watchConnectionLoss(connection: ConnectionLossEvents, onLost: () => void): void {
  connection.on('error', () => onLost());
  connection.on('end', () => onLost());
}
