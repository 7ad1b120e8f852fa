import type { ConnectionOptions, SslOptions } from 'mysql2';

/** mysql2 options that `MysqlConfig` sets itself; `driverOptions` may not repeat them. */
export const OWNED_DRIVER_OPTIONS = [
  'uri',
  'host',
  'port',
  'user',
  'password',
  'database',
  'ssl',
  'charset',
  'timezone',
  'connectTimeout',
] as const;

/** Extra mysql2 connection options, passed through unchanged (for example `supportBigNumbers`, `dateStrings`). */
export type MysqlDriverOptions = Omit<ConnectionOptions, (typeof OWNED_DRIVER_OPTIONS)[number]>;

/**
 * What `mysql()` accepts besides a URL. Fields given here override the same part of `url`.
 * Keep it structured-clonable (no functions in `driverOptions`) if you want `syncSession`:
 * the worker thread rebuilds the adapter from it.
 */
export interface MysqlConfig {
  /** `mysql://user:password@host:port/database?ssl=true` (`mariadb://` is the same). */
  readonly url?: string | undefined;
  /** Default `localhost`. */
  readonly host?: string | undefined;
  /** Default 3306. */
  readonly port?: number | undefined;
  /** Required, here or in the URL. */
  readonly user?: string | undefined;
  readonly password?: string | undefined;
  /** The default schema; optional (statements then name `db.table`). */
  readonly database?: string | undefined;
  /** `true`: TLS with certificate verification; an object: Node TLS options as mysql2 takes them. Default off. */
  readonly ssl?: boolean | SslOptions | undefined;
  /** Connection charset or collation, such as `utf8mb4` or `utf8mb4_unicode_ci` (mysql2's default). */
  readonly charset?: string | undefined;
  /** How JS `Date`s are written and read: `local` (mysql2's default), `Z`, or `+HH:MM`. */
  readonly timezone?: string | undefined;
  /** Time allowed to open one connection, in ms. Default 10000. */
  readonly connectTimeoutMs?: number | undefined;
  /** Extra mysql2 `ConnectionOptions`. */
  readonly driverOptions?: MysqlDriverOptions | undefined;
}
