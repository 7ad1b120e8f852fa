import type { PostgresSettings } from './postgres-settings.js';

/**
 * Builds the URL-shaped `description` of where the adapter connects, password shown as
 * `***`. A Unix socket directory goes in the `host` parameter, as libpq writes it.
 *
 * @example
 * ```ts
 * describePostgresTarget({ host: 'db', port: 5432, user: 'app', password: 'pw', database: 'shop' })
 * // 'postgres://app:***@db:5432/shop'
 * ```
 */
export function describePostgresTarget(settings: PostgresSettings): string {
  const { host, port, user, password, database } = settings;
  const socketDir = host?.startsWith('/') ? host : undefined;
  const hostPart = host === undefined || socketDir !== undefined ? '' : host.includes(':') ? `[${host}]` : host;
  const auth =
    user === undefined && password === undefined
      ? ''
      : `${encodeURIComponent(user ?? '')}${password === undefined ? '' : ':***'}@`;
  const portPart = port === undefined ? '' : `:${port}`;
  const dbPart = database === undefined ? '' : `/${encodeURIComponent(database)}`;
  const query =
    socketDir === undefined
      ? ''
      : `${dbPart === '' ? '/' : ''}?host=${encodeURIComponent(socketDir).replaceAll('%2F', '/')}`;
  return `postgres://${auth}${hostPart}${portPart}${dbPart}${query}`;
}
