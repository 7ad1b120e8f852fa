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

/**
 * Node's `error.code`s for a TLS handshake that failed: the certificate could not be verified or
 * the peers could not agree on a protocol. The connection never came up, so it is a connection
 * error, not a database one.
 */
export const TLS_ERROR_CODES: ReadonlySet<string> = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_TLS_HANDSHAKE_TIMEOUT',
  'EPROTO',
]);

// Drivers report a server without TLS in text only (pg) or with their own code (mysql2); both are listed.
const TLS_REFUSED_MESSAGES: readonly RegExp[] = [
  /^The server does not support SSL connections/,
  /^Server does not support secure connection/,
  /self[- ]signed certificate/i,
  /unable to verify the first certificate/i,
];

/**
 * Whether a driver error is a failed TLS handshake: a certificate that could not be verified
 * (`self-signed certificate`, an expired one, a wrong host name), a server that does not speak
 * TLS (`The server does not support SSL connections`) or an OpenSSL protocol error. Adapters
 * classify these as `CONNECTION`.
 *
 * @example
 * ```ts
 * isTlsHandshakeError({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT', message: 'self-signed certificate' }) // true
 * isTlsHandshakeError(new Error('The server does not support SSL connections'))               // true
 * isTlsHandshakeError({ code: '23505' })                                                       // false
 * ```
 */
export function isTlsHandshakeError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (TLS_ERROR_CODES.has(code) || /^ERR_(SSL|TLS)_/.test(code))) return true;
  if (code === 'HANDSHAKE_NO_SSL_SUPPORT') return true;
  return typeof message === 'string' && TLS_REFUSED_MESSAGES.some((pattern) => pattern.test(message));
}
