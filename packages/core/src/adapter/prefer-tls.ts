/**
 * Whether a driver error says the server does not do TLS at all (pg: `The server does not
 * support SSL connections`; mysql2: `HANDSHAKE_NO_SSL_SUPPORT`), as opposed to a TLS handshake
 * that failed. Only the first lets `ssl: 'prefer'` fall back to plaintext.
 *
 * @example
 * ```ts
 * isTlsUnsupportedByServer(new Error('The server does not support SSL connections')) // true
 * isTlsUnsupportedByServer({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' })                 // false
 * ```
 */
export function isTlsUnsupportedByServer(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (code === 'HANDSHAKE_NO_SSL_SUPPORT') return true;
  return (
    typeof message === 'string' &&
    /^(The server does not support SSL connections|Server does not support secure connection)/.test(message)
  );
}

/**
 * Opens a connection for `ssl: 'prefer'`: first with TLS (`connect(true)`), and again without
 * (`connect(false)`) only when the server answers that it does not do TLS. Any other failure
 * (wrong password, unreachable host, a broken handshake) is thrown as it is, so the fallback
 * never hides a real problem.
 *
 * @example
 * ```ts
 * const client = await connectPreferringTls((tls) =>
 *   openClient({ ...config, ssl: tls ? { rejectUnauthorized: false } : false }),
 * )
 * ```
 */
export async function connectPreferringTls<T>(connect: (tls: boolean) => Promise<T>): Promise<T> {
  try {
    return await connect(true);
  } catch (error) {
    if (!isTlsUnsupportedByServer(error)) throw error;
    return connect(false);
  }
}
