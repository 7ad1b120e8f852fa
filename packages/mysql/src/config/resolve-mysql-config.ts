import {
  adapterConfigError,
  checkIntegerOption,
  checkStringOption,
  type HostAddress,
  invalidOption,
  resolveServerConfig,
  type ServerConfigSpec,
} from '@sessionfactory/core/adapter';
import { CompiledQuery } from 'kysely';
import type { ConnectionOptions } from 'mysql2';
import { MYSQL_FLAVORS, type MysqlFlavor } from '../replication/mysql-replication.js';
import { checkCharset, checkTimezone, toMysqlSsl } from './config-checks.js';
import { type MysqlConfig, RESERVED_DRIVER_OPTIONS } from './mysql-config.js';
import { MYSQL_URL_PARAMETERS, MYSQL_URL_SCHEMES, readMysqlUrlParams } from './read-url-params.js';

/** What is particular to MySQL in core's shared server-config resolution. */
const MYSQL_CONFIG_SPEC: ServerConfigSpec<MysqlConfig> = {
  dialect: 'mysql',
  schemes: MYSQL_URL_SCHEMES,
  options: ['charset', 'timezone', 'socketPath', 'wsrepSyncWait', 'flavor'],
  urlParameters: MYSQL_URL_PARAMETERS,
  readUrlParameters: readMysqlUrlParams,
  defaults: { host: 'localhost', port: 3306 },
  required: ['user'],
  // mysql2 reads 0 as "no limit"; this adapter insists on a real one.
  minConnectTimeoutMs: 1,
  driverOptions: { expected: 'an object of mysql2 connection options', reserved: RESERVED_DRIVER_OPTIONS },
};

/** A checked configuration: what mysql2 is given, and how to name the target safely. */
export interface ResolvedMysqlConfig {
  /** The target as a URL with the password replaced by `***`. */
  readonly description: string;
  /** Options for `mysql2.createConnection` (copy `ssl` per connection: mysql2 writes into it). */
  readonly connectionOptions: Readonly<ConnectionOptions>;
  /** `ssl: 'prefer'`: connect with TLS if the server offers it, else without. */
  readonly preferTls: boolean;
  /** A multi-host URL's hosts (`mysql://root@n1:3306,n2:3306/db`), in order; undefined for one host. */
  readonly hosts: readonly HostAddress[] | undefined;
  /** Statements every new (and every reset) connection runs first: session settings such as `wsrep_sync_wait`. */
  readonly sessionSetup: readonly CompiledQuery[];
  /** The server family for replication SQL (`mariadb` unless set to `mysql`). */
  readonly flavor: MysqlFlavor;
}

/**
 * Checks a URL or config object (through core's `resolveServerConfig`) and turns it into mysql2
 * connection options. Any bad input throws a `ConfigurationError` naming the option, the value
 * (never a password) and what is allowed.
 *
 * @example
 * ```ts
 * const { description, connectionOptions } = resolveMysqlConfig('mysql://app:secret@db:3306/shop')
 * description // 'mysql://app:***@db:3306/shop'
 * connectionOptions.host // 'db'
 * ```
 */
export function resolveMysqlConfig(input: string | MysqlConfig): ResolvedMysqlConfig {
  const { server, options, driverOptions, description } = resolveServerConfig(input, MYSQL_CONFIG_SPEC);
  const { host, port, user, password, database, connectTimeoutMs, hosts } = server;
  const ssl = toMysqlSsl(server.ssl);
  const charset = checkCharset(options.charset);
  const timezone = checkTimezone(options.timezone);
  // A host that is a path (a percent-encoded one in the URL) is a Unix socket, as libpq reads it.
  const socketPath =
    checkStringOption('mysql', 'socketPath', options.socketPath) ?? (host?.startsWith('/') ? host : undefined);
  const connectionOptions: ConnectionOptions = {
    ...driverOptions,
    ...(socketPath === undefined ? { host, port } : { socketPath }),
    user,
    ...(password === undefined ? {} : { password }),
    ...(database === undefined ? {} : { database }),
    ...(ssl === undefined ? {} : { ssl }),
    ...(charset === undefined ? {} : { charset }),
    ...(timezone === undefined ? {} : { timezone }),
    ...(connectTimeoutMs === undefined ? {} : { connectTimeout: connectTimeoutMs }),
  };
  const wsrepSyncWait = checkIntegerOption('mysql', 'wsrepSyncWait', options.wsrepSyncWait, 0, 15);
  // A number checked above, still sent as a parameter: nothing is spliced into SQL.
  const sessionSetup =
    wsrepSyncWait === undefined ? [] : [CompiledQuery.raw('SET SESSION wsrep_sync_wait = ?', [wsrepSyncWait])];
  if (hosts !== undefined && socketPath !== undefined) {
    throw adapterConfigError('mysql', 'a host list and socketPath exclude each other; give one or the other');
  }
  const flavor = checkFlavor(options.flavor, typeof input === 'string' ? input : input.url);
  return { description, connectionOptions, preferTls: server.ssl === 'prefer', hosts, sessionSetup, flavor };
}

// `mariadb://` says which family it is; `mysql://` is used for both, so MariaDB is the default.
function checkFlavor(flavor: unknown, url: string | undefined): MysqlFlavor {
  const scheme = url?.slice(0, url.indexOf(':')).toLowerCase();
  if (flavor === undefined) return 'mariadb';
  if (!MYSQL_FLAVORS.includes(flavor as MysqlFlavor)) {
    throw invalidOption('mysql', 'flavor', flavor, `one of ${MYSQL_FLAVORS.join(', ')}`);
  }
  if (scheme === 'mariadb' && flavor !== 'mariadb') {
    throw adapterConfigError('mysql', `a mariadb:// URL cannot have flavor ${flavor}; use a mysql:// URL for MySQL`);
  }
  return flavor as MysqlFlavor;
}
