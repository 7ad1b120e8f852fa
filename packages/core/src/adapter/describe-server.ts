/** Where a server adapter connects: the parts `describeServer` puts in its URL. */
export interface ServerTarget {
  /** Without the colon: `postgres`, `mysql`, `mariadb`, ... */
  readonly scheme: string;
  /** A host name, an IP address (IPv6 is bracketed) or a Unix socket directory (starts with `/`). */
  readonly host?: string | undefined;
  readonly port?: number | undefined;
  readonly user?: string | undefined;
  /** Only whether there is one matters: it is always written as `***`. */
  readonly password?: string | undefined;
  readonly database?: string | undefined;
}

/**
 * Builds the URL-shaped `description` of a server target for messages and logs, password shown
 * as `***`. Parts that are not set are left out; the path is always written, so the database
 * (possibly none) is unambiguous. A Unix socket directory cannot stand in a URL's host, so it goes
 * in the `host` query parameter, as libpq writes it.
 *
 * @example
 * ```ts
 * describeServer({ scheme: 'mysql', host: '::1', port: 3306, user: 'app', password: 'pw' })
 * // 'mysql://app:***@[::1]:3306/'
 * describeServer({ scheme: 'postgres', host: '/var/run/postgresql', user: 'app', database: 'shop' })
 * // 'postgres://app@/shop?host=/var/run/postgresql'
 * ```
 */
export function describeServer(target: ServerTarget): string {
  const { scheme, host, port, user, password, database } = target;
  const socketDir = host?.startsWith('/') ? host : undefined;
  const hostPart = host === undefined || socketDir !== undefined ? '' : host.includes(':') ? `[${host}]` : host;
  const auth =
    user === undefined && password === undefined
      ? ''
      : `${encodeURIComponent(user ?? '')}${password === undefined ? '' : ':***'}@`;
  const portPart = port === undefined ? '' : `:${port}`;
  const path = `/${database === undefined ? '' : encodeURIComponent(database)}`;
  const query = socketDir === undefined ? '' : `?host=${encodeURIComponent(socketDir).replaceAll('%2F', '/')}`;
  return `${scheme}://${auth}${hostPart}${portPart}${path}${query}`;
}
