import { ConfigurationError } from '@sessionfactory/core';
import type { ClientConfig } from 'pg';
import { isPlainObject, optionalInteger, optionalString } from './config-checks.js';
import { configProblem } from './config-problem.js';
import { describePostgresTarget } from './describe-postgres-target.js';
import { parseSearchPath } from './parse-search-path.js';
import type { PostgresSettings } from './postgres-settings.js';
import { settingsFromUrl } from './settings-from-url.js';

/** A finite default, so an unreachable host fails in seconds rather than after the OS's TCP timeout. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

const CONFIG_KEYS = [
  'url',
  'host',
  'port',
  'user',
  'password',
  'database',
  'ssl',
  'applicationName',
  'searchPath',
  'connectTimeoutMs',
  'statementTimeoutMs',
  'driverOptions',
] as const;

const TARGET_KEYS = ['host', 'port', 'user', 'password', 'database'] as const;

/** Everything `postgres()` needs to open connections, validated. */
export interface ResolvedPostgresConfig {
  /** Passed to `new pg.Client()` for every connection (includes the password). */
  readonly clientConfig: ClientConfig;
  /** Set with `SET search_path` right after connecting. */
  readonly searchPath: readonly string[] | undefined;
  /** Where it connects, password redacted. */
  readonly description: string;
}

/**
 * Validates a URL or `PostgresConfig` and turns it into a `pg.ClientConfig`. Fields of the
 * config object override the URL's. Every problem is a `ConfigurationError` naming the
 * option, the value and what is allowed, with no password in it.
 *
 * @example
 * ```ts
 * const { clientConfig, description } = resolvePostgresConfig({ url: 'postgres://app:pw@db/shop', port: 6432 })
 * clientConfig.port // 6432
 * description       // 'postgres://app:***@db:6432/shop'
 * ```
 */
export function resolvePostgresConfig(input: unknown): ResolvedPostgresConfig {
  if (typeof input === 'string') {
    const { settings, redacted } = settingsFromUrl(input);
    return build(settings, undefined, redacted);
  }
  if (!isPlainObject(input)) {
    throw new ConfigurationError(
      `postgres: expected a postgres:// URL or a config object, got ${input === null ? 'null' : typeof input}`,
      { dialect: 'postgres' },
    );
  }
  for (const key of Object.keys(input)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
      throw new ConfigurationError(`postgres: unknown option "${key}"; known options: ${CONFIG_KEYS.join(', ')}`, {
        dialect: 'postgres',
      });
    }
  }
  const url = optionalString('url', input.url);
  const fromUrl = url === undefined ? undefined : settingsFromUrl(url);
  const own = settingsFromConfig(input);
  const settings = { ...fromUrl?.settings, ...definedOnly(own) } as PostgresSettings;
  const overridesTarget = TARGET_KEYS.some((key) => own[key] !== undefined);
  return build(settings, driverOptionsOf(input.driverOptions), overridesTarget ? undefined : fromUrl?.redacted);
}

function settingsFromConfig(input: Record<string, unknown>): PostgresSettings {
  return {
    host: optionalString('host', input.host),
    port: optionalInteger('port', input.port, 1, 65535),
    user: optionalString('user', input.user),
    password: optionalString('password', input.password, true),
    database: optionalString('database', input.database),
    ssl: sslOf(input.ssl),
    applicationName: optionalString('applicationName', input.applicationName, true),
    searchPath: parseSearchPath('searchPath', input.searchPath),
    connectTimeoutMs: optionalInteger('connectTimeoutMs', input.connectTimeoutMs, 0, 2 ** 31 - 1),
    statementTimeoutMs: optionalInteger('statementTimeoutMs', input.statementTimeoutMs, 0, 2 ** 31 - 1),
  };
}

function sslOf(value: unknown): PostgresSettings['ssl'] {
  if (value === undefined || typeof value === 'boolean' || isPlainObject(value)) return value;
  throw configProblem('ssl', value, 'true, false or an object of TLS options');
}

function driverOptionsOf(value: unknown): ClientConfig | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) throw configProblem('driverOptions', value, 'an object of extra pg.ClientConfig fields');
  // pg lets `connectionString` override every explicit field, which would defeat validation.
  if ('connectionString' in value) {
    throw new ConfigurationError(
      'postgres: invalid option "driverOptions.connectionString": not allowed, it would override the other options; use the url option',
      { dialect: 'postgres' },
    );
  }
  return value as ClientConfig;
}

function build(
  settings: PostgresSettings,
  driverOptions: ClientConfig | undefined,
  redactedUrl: string | undefined,
): ResolvedPostgresConfig {
  const ours = definedOnly({
    host: settings.host,
    port: settings.port,
    user: settings.user,
    password: settings.password,
    database: settings.database,
    ssl: settings.ssl,
    application_name: settings.applicationName,
    statement_timeout: settings.statementTimeoutMs,
    connectionTimeoutMillis: settings.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
  });
  return {
    clientConfig: { ...driverOptions, ...ours },
    searchPath: settings.searchPath,
    description: redactedUrl ?? describePostgresTarget(settings),
  };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
