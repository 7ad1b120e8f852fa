import {
  checkIntegerOption,
  checkStringOption,
  type HostAddress,
  invalidOption,
  refuseControlCharacters,
  resolveServerConfig,
  type ServerConfigSpec,
  TARGET_SESSION_ATTRS,
  type TargetSessionAttrs,
} from '@sessionfactory/core/adapter';
import type { ClientConfig } from 'pg';
import { parseSearchPath } from './parse-search-path.js';
import type { PostgresConfig } from './postgres-config.js';
import type { TransactionPooling } from './postgres-connection.js';
import { POSTGRES_SCHEMES, POSTGRES_URL_PARAMETERS, readPostgresUrlParams } from './postgres-url-params.js';
import { DEFAULT_STATEMENT_CACHE_SIZE } from './statement-names.js';

/** A finite default, so an unreachable host fails in seconds rather than after the OS's TCP timeout. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** More named statements per connection than any application has distinct hot queries. */
const MAX_STATEMENT_CACHE_SIZE = 100_000;

// setTimeout's limit, which pg's statement_timeout shares.
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** What is particular to Postgres in core's shared server-config resolution. */
const POSTGRES_CONFIG_SPEC: ServerConfigSpec<PostgresConfig> = {
  dialect: 'postgres',
  schemes: POSTGRES_SCHEMES,
  options: [
    'applicationName',
    'searchPath',
    'statementTimeoutMs',
    'options',
    'channelBinding',
    'keepAlive',
    'keepAliveIdleMs',
    'targetSessionAttrs',
    'transactionPooling',
    'statementCacheSize',
  ],
  urlParameters: POSTGRES_URL_PARAMETERS,
  readUrlParameters: readPostgresUrlParams,
  // Host, port, user, password and database left unset fall back to pg's defaults (PGHOST, ...).
  defaults: { connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS },
  driverOptions: {
    expected: 'an object of extra pg.ClientConfig fields',
    // pg lets `connectionString` override every explicit field, which would defeat validation.
    reserved: { connectionString: 'url' },
  },
};

/** Everything `postgres()` needs to open connections, validated. */
export interface ResolvedPostgresConfig {
  /** Passed to `new pg.Client()` for every connection (includes the password). */
  readonly clientConfig: ClientConfig;
  /** `ssl: 'prefer'`: connect with TLS (no certificate checks) if the server offers it, else without. */
  readonly preferTls: boolean;
  /** Set with `SET search_path` right after connecting. */
  readonly searchPath: readonly string[] | undefined;
  /** Where it connects, password redacted. */
  readonly description: string;
  /** The hosts of a multi-host URL, in order (`undefined` for one host). */
  readonly hosts: readonly HostAddress[] | undefined;
  /** Which server a connection must reach; `any` needs no check. */
  readonly targetSessionAttrs: TargetSessionAttrs;
  /** Set when the server is a transaction pooler: settings go into every transaction instead. */
  readonly transactionPooling: TransactionPooling | undefined;
  /** Named statements per connection (0: none). */
  readonly statementCacheSize: number;
}

/**
 * Validates a URL or `PostgresConfig` (through core's `resolveServerConfig`) and turns it into a
 * `pg.ClientConfig`. Fields of the config object override the URL's. Every problem is a
 * `ConfigurationError` naming the option, the value and what is allowed, with no password in it.
 *
 * @example
 * ```ts
 * const { clientConfig, description } = resolvePostgresConfig({ url: 'postgres://app:pw@db/shop', port: 6432 })
 * clientConfig.port // 6432
 * description       // 'postgres://app:***@db:6432/shop'
 * ```
 */
export function resolvePostgresConfig(input: unknown): ResolvedPostgresConfig {
  const { server, options, driverOptions, description } = resolveServerConfig(input, POSTGRES_CONFIG_SPEC);
  const searchPath = parseSearchPath(options.searchPath, (value, allowed) =>
    invalidOption('postgres', 'searchPath', value, allowed),
  )?.map((name) => refuseControlCharacters('postgres', 'searchPath', name));
  const ours = definedOnly({
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    database: server.database,
    ssl: server.ssl === 'prefer' ? { rejectUnauthorized: false } : server.ssl,
    application_name: checkStringOption('postgres', 'applicationName', options.applicationName, { allowEmpty: true }),
    statement_timeout: checkIntegerOption(
      'postgres',
      'statementTimeoutMs',
      options.statementTimeoutMs,
      0,
      MAX_TIMEOUT_MS,
    ),
    connectionTimeoutMillis: server.connectTimeoutMs,
    options: checkStringOption('postgres', 'options', options.options, { allowEmpty: true }),
    enableChannelBinding: checkBoolean('channelBinding', options.channelBinding),
    keepAlive: checkBoolean('keepAlive', options.keepAlive),
    keepAliveInitialDelayMillis: checkIntegerOption(
      'postgres',
      'keepAliveIdleMs',
      options.keepAliveIdleMs,
      0,
      MAX_TIMEOUT_MS,
    ),
  });
  const target = options.targetSessionAttrs ?? 'any';
  if (!(TARGET_SESSION_ATTRS as readonly unknown[]).includes(target)) {
    throw invalidOption('postgres', 'targetSessionAttrs', target, `one of ${TARGET_SESSION_ATTRS.join(', ')}`);
  }
  const pooling = checkBoolean('transactionPooling', options.transactionPooling) === true;
  const statementCacheSize =
    checkIntegerOption('postgres', 'statementCacheSize', options.statementCacheSize, 0, MAX_STATEMENT_CACHE_SIZE) ??
    (pooling ? 0 : DEFAULT_STATEMENT_CACHE_SIZE);
  const clientConfig: ClientConfig = { ...driverOptions, ...ours };
  // pg sends statement_timeout in the start-up packet, which PgBouncer refuses; SET LOCAL instead.
  const statementTimeoutMs = pooling ? clientConfig.statement_timeout : undefined;
  if (pooling) delete clientConfig.statement_timeout;
  return {
    clientConfig,
    preferTls: server.ssl === 'prefer',
    searchPath,
    description,
    hosts: server.hosts,
    targetSessionAttrs: target as TargetSessionAttrs,
    transactionPooling: pooling ? { statementTimeoutMs: statementTimeoutMs || undefined } : undefined,
    statementCacheSize,
  };
}

function checkBoolean(option: string, value: unknown): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  throw invalidOption('postgres', option, value, 'true or false');
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
