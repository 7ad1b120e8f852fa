import { ConfigurationError, parseConnectionUrl } from '@sessionfactory/core';
import { integerParam } from './config-checks.js';
import { parseSearchPath } from './parse-search-path.js';
import type { PostgresSettings } from './postgres-settings.js';
import { sslFromUrl } from './ssl-from-url.js';

/** URL schemes this adapter accepts. */
export const POSTGRES_SCHEMES = ['postgres', 'postgresql'] as const;

const KNOWN_PARAMS = [
  'sslmode',
  'ssl',
  'application_name',
  'search_path',
  'connect_timeout',
  'statement_timeout',
  'host',
] as const;

/** What a URL says, validated, plus its password-redacted form. */
export interface UrlSettings {
  readonly settings: PostgresSettings;
  readonly redacted: string;
}

/**
 * Reads a `postgres:`/`postgresql:` URL. Query parameters: `sslmode`, `ssl`,
 * `application_name`, `search_path`, `connect_timeout` (seconds, as in libpq),
 * `statement_timeout` (ms) and `host` (e.g. a Unix socket directory); any other parameter is
 * a `ConfigurationError`, so a typo never goes unnoticed.
 *
 * @example
 * ```ts
 * settingsFromUrl('postgres://app:pw@db/shop?connect_timeout=5').settings.connectTimeoutMs // 5000
 * ```
 */
export function settingsFromUrl(url: string): UrlSettings {
  const parsed = parseConnectionUrl(url, POSTGRES_SCHEMES);
  const { params } = parsed;
  for (const name of Object.keys(params)) {
    if (!(KNOWN_PARAMS as readonly string[]).includes(name)) {
      throw new ConfigurationError(
        `postgres: unknown URL parameter "${name}" in ${parsed.redacted}; known parameters: ${KNOWN_PARAMS.join(', ')}`,
        { dialect: 'postgres' },
      );
    }
  }
  const connectTimeout = params.connect_timeout;
  const statementTimeout = params.statement_timeout;
  return {
    redacted: parsed.redacted,
    settings: {
      host: params.host === '' ? undefined : (params.host ?? parsed.host),
      port: parsed.port,
      user: parsed.user,
      password: parsed.password,
      database: parsed.database,
      ssl: sslFromUrl(params),
      applicationName: params.application_name,
      searchPath: parseSearchPath('search_path', params.search_path),
      connectTimeoutMs:
        connectTimeout === undefined ? undefined : integerParam('connect_timeout', connectTimeout) * 1000,
      statementTimeoutMs:
        statementTimeout === undefined ? undefined : integerParam('statement_timeout', statementTimeout),
    },
  };
}
