import { invalidOption } from '@sessionfactory/core/adapter';
import mysql2, { type SslOptions } from 'mysql2';

// The checks of MySQL's own options; the shared server fields are checked by core's resolveServerConfig.

/**
 * mysql2's `ssl` for a checked `ssl` option: none for `false`, `{}` (TLS with verification)
 * for `true`, and a copy of a TLS options object, because mysql2 writes into it.
 *
 * @example
 * ```ts
 * toMysqlSsl(true)  // {}
 * toMysqlSsl(false) // undefined
 * ```
 */
export function toMysqlSsl(ssl: boolean | 'prefer' | SslOptions | undefined): SslOptions | undefined {
  if (ssl === undefined || ssl === false) return undefined;
  // 'prefer' (ssl-mode=PREFERRED) does not verify; the adapter falls back to plaintext if the server has no TLS.
  if (ssl === 'prefer') return { rejectUnauthorized: false };
  return ssl === true ? {} : { ...ssl };
}

/**
 * A charset or collation mysql2 knows (`utf8mb4`, `utf8mb4_unicode_ci`, ...).
 *
 * @example
 * ```ts
 * checkCharset('utf8mb4') // 'utf8mb4'
 * ```
 */
export function checkCharset(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !(value.toUpperCase() in mysql2.Charsets)) {
    throw invalidOption(
      'mysql',
      'charset',
      value,
      'a MySQL charset or collation such as utf8mb4 or utf8mb4_unicode_ci',
    );
  }
  return value;
}

/**
 * `local`, `Z` or an offset `+HH:MM` / `-HH:MM`, the forms mysql2 understands.
 *
 * @example
 * ```ts
 * checkTimezone('+02:00') // '+02:00'
 * ```
 */
export function checkTimezone(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^(?:local|Z|[+-]\d\d:\d\d)$/.test(value)) {
    throw invalidOption('mysql', 'timezone', value, '"local", "Z" or an offset such as "+02:00"');
  }
  return value;
}
