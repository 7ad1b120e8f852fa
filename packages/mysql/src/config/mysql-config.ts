import type { ServerConnectionConfig } from '@sessionfactory/core/adapter';
import type { ConnectionOptions, SslOptions } from 'mysql2';

/**
 * mysql2 options that `MysqlConfig` sets itself, each with the option to set instead;
 * `driverOptions` may not repeat them.
 */
export const RESERVED_DRIVER_OPTIONS = {
  uri: 'url',
  host: 'host',
  port: 'port',
  user: 'user',
  password: 'password',
  database: 'database',
  ssl: 'ssl',
  charset: 'charset',
  timezone: 'timezone',
  connectTimeout: 'connectTimeoutMs',
  socketPath: 'socketPath',
} as const;

/** Extra mysql2 connection options, passed through unchanged (for example `supportBigNumbers`, `dateStrings`). */
export type MysqlDriverOptions = Omit<ConnectionOptions, keyof typeof RESERVED_DRIVER_OPTIONS>;

/**
 * What `mysql()` accepts besides a URL: core's shared server fields plus MySQL's own. Fields
 * given here override the same part of `url` (`mysql://user:password@host:port/database?ssl=true`;
 * `mariadb://` is the same). `host` defaults to `localhost`, `port` to 3306; `user` is required,
 * here or in the URL; `database` (the default schema) is optional; `ssl: true` is TLS with
 * certificate verification, an object is Node TLS options as mysql2 takes them, `'prefer'` is TLS
 * without certificate checks when the server offers it and plaintext otherwise (default off);
 * `connectTimeoutMs` is at least 1 (mysql2's default 10000). Keep it structured-clonable (no
 * functions in `driverOptions`) if you want `syncSession`: the worker thread rebuilds the adapter
 * from it.
 */
export interface MysqlConfig extends ServerConnectionConfig<SslOptions, MysqlDriverOptions> {
  /** Connection charset or collation, such as `utf8mb4` or `utf8mb4_unicode_ci` (mysql2's default). */
  readonly charset?: string | undefined;
  /** How JS `Date`s are written and read: `local` (mysql2's default), `Z`, or `+HH:MM`. */
  readonly timezone?: string | undefined;
  /**
   * Connect through this Unix socket instead of TCP (`host` and `port` are then unused). A URL
   * gives it as `?socketPath=/run/mysqld/mysqld.sock` or as a percent-encoded host
   * (`mysql://root@%2Frun%2Fmysqld%2Fmysqld.sock/shop`).
   */
  readonly socketPath?: string | undefined;
  /**
   * Galera read-your-writes: sets `wsrep_sync_wait` (a bitmask 0-15; 1 = reads wait until the
   * node has applied every write the cluster committed before them) on every connection, again
   * after each reset. URL form: `?wsrepSyncWait=1`. Only for Galera nodes: other servers refuse
   * the variable and connecting fails. Unset: the server's setting (0 by default).
   *
   * @example
   * ```ts
   * mysql({ url: 'mysql://app@node1,node2,node3/shop', wsrepSyncWait: 1 })
   * ```
   */
  readonly wsrepSyncWait?: number | undefined;
  /**
   * The server family, for the replication SQL of read replicas (`replicas` factory option):
   * `'mariadb'` (default; GTID lists, `MASTER_GTID_WAIT`) or `'mysql'` (MySQL 8 GTID sets,
   * `WAIT_FOR_EXECUTED_GTID_SET`). URL form: `?flavor=mysql`. A `mariadb://` URL is always MariaDB.
   *
   * @example
   * ```ts
   * mysql({ url: 'mysql://app@primary/shop', flavor: 'mysql' })
   * ```
   */
  readonly flavor?: 'mariadb' | 'mysql' | undefined;
}
