import type { ConnectionOptions } from 'mysql2';
import {
  checkCharset,
  checkDriverOptions,
  checkInteger,
  checkName,
  checkPassword,
  checkSsl,
  checkTimezone,
  isPlainObject,
} from './config-checks.js';
import { configurationError } from './config-errors.js';
import type { MysqlConfig } from './mysql-config.js';
import { parseMysqlUrl } from './parse-mysql-url.js';
import { readUrlParams } from './read-url-params.js';

const CONFIG_KEYS: readonly (keyof MysqlConfig)[] = [
  'url',
  'host',
  'port',
  'user',
  'password',
  'database',
  'ssl',
  'charset',
  'timezone',
  'connectTimeoutMs',
  'driverOptions',
];

// setTimeout's limit: a larger connect timeout would fire at once.
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** A checked configuration: what mysql2 is given, and how to name the target safely. */
export interface ResolvedMysqlConfig {
  /** The target as a URL with the password replaced by `***`. */
  readonly description: string;
  /** Options for `mysql2.createConnection` (copy `ssl` per connection: mysql2 writes into it). */
  readonly connectionOptions: Readonly<ConnectionOptions>;
}

/**
 * Checks a URL or config object and turns it into mysql2 connection options. Any bad input
 * throws a `ConfigurationError` naming the option, the value (never a password) and what
 * is allowed.
 *
 * @example
 * ```ts
 * const { description, connectionOptions } = resolveMysqlConfig('mysql://app:secret@db:3306/shop')
 * description // 'mysql://app:***@db:3306/shop'
 * connectionOptions.host // 'db'
 * ```
 */
export function resolveMysqlConfig(input: string | MysqlConfig): ResolvedMysqlConfig {
  const config = checkShape(input);
  const url = config.url === undefined ? undefined : parseMysqlUrl(config.url);
  const merged: MysqlConfig = {
    host: url?.host,
    port: url?.port,
    user: url?.user,
    password: url?.password,
    database: url?.database,
    ...(url === undefined ? {} : readUrlParams(url.params)),
    ...definedFields(config),
  };

  const host = checkName('host', merged.host) ?? 'localhost';
  const port = checkInteger('port', merged.port, 1, 65535) ?? 3306;
  const user = checkName('user', merged.user);
  if (user === undefined) {
    throw configurationError(
      'no user given; set "user" or put it in the URL (mysql://user:password@host:port/database)',
    );
  }
  const password = checkPassword(merged.password);
  const database = checkName('database', merged.database);
  const ssl = checkSsl(merged.ssl);
  const charset = checkCharset(merged.charset);
  const timezone = checkTimezone(merged.timezone);
  const connectTimeout = checkInteger('connectTimeoutMs', merged.connectTimeoutMs, 1, MAX_TIMEOUT_MS);

  const connectionOptions: ConnectionOptions = {
    ...checkDriverOptions(config.driverOptions),
    host,
    port,
    user,
    ...(password === undefined ? {} : { password }),
    ...(database === undefined ? {} : { database }),
    ...(ssl === undefined ? {} : { ssl }),
    ...(charset === undefined ? {} : { charset }),
    ...(timezone === undefined ? {} : { timezone }),
    ...(connectTimeout === undefined ? {} : { connectTimeout }),
  };
  const overridesUrl = CONNECTION_PARTS.some((key) => config[key] !== undefined);
  const description =
    url !== undefined && !overridesUrl
      ? url.redacted
      : describeTarget(url?.scheme ?? 'mysql', user, password, host, port, database);
  return { description, connectionOptions };
}

const CONNECTION_PARTS = ['host', 'port', 'user', 'password', 'database'] as const;

function checkShape(input: unknown): MysqlConfig {
  if (typeof input === 'string') return { url: input };
  if (!isPlainObject(input)) {
    const got = input === null ? 'null' : Array.isArray(input) ? 'an array' : typeof input;
    throw configurationError(`expected a mysql:// URL string or a config object, got ${got}`);
  }
  for (const key of Object.keys(input)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
      throw configurationError(`unknown option "${key}"; known options: ${CONFIG_KEYS.join(', ')}`);
    }
  }
  if (input.url !== undefined && typeof input.url !== 'string') {
    throw configurationError('option "url" must be a string such as mysql://user:password@host:3306/database');
  }
  return input as MysqlConfig;
}

function definedFields(config: MysqlConfig): MysqlConfig {
  return Object.fromEntries(
    Object.entries(config).filter(([key, value]) => value !== undefined && key !== 'url' && key !== 'driverOptions'),
  );
}

function describeTarget(
  scheme: string,
  user: string,
  password: string | undefined,
  host: string,
  port: number,
  database: string | undefined,
): string {
  const credentials = `${encodeURIComponent(user)}${password === undefined ? '' : ':***'}`;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return `${scheme}://${credentials}@${hostPart}:${port}/${database === undefined ? '' : encodeURIComponent(database)}`;
}
