import { invalidUrlParameter, parseWholeNumberParameter } from '@sessionfactory/core/adapter';
import { parseSearchPath } from './parse-search-path.js';
import { sslFromUrl } from './ssl-from-url.js';

/** URL schemes this adapter accepts. */
export const POSTGRES_SCHEMES = ['postgres', 'postgresql'] as const;

/** Query parameters a `postgres:` URL may carry; any other one is a `ConfigurationError`. */
export const POSTGRES_URL_PARAMETERS = [
  'sslmode',
  'ssl',
  'application_name',
  'search_path',
  'connect_timeout',
  'statement_timeout',
  'host',
] as const;

/**
 * Reads the query parameters of a `postgres:`/`postgresql:` URL into config fields: `sslmode`,
 * `ssl`, `application_name`, `search_path`, `connect_timeout` (seconds, as in libpq),
 * `statement_timeout` (ms) and `host` (e.g. a Unix socket directory; it overrides the URL's host,
 * and an empty `host=` clears it). Bad values throw a `ConfigurationError` naming the parameter.
 *
 * @example
 * ```ts
 * readPostgresUrlParams({ connect_timeout: '5', search_path: 'app,public' })
 * // { ssl: undefined, applicationName: undefined, searchPath: ['app', 'public'], connectTimeoutMs: 5000, ... }
 * ```
 */
export function readPostgresUrlParams(params: Readonly<Record<string, string>>) {
  const { host, application_name, search_path, connect_timeout, statement_timeout } = params;
  return {
    ...(host === undefined ? {} : { host: host === '' ? undefined : host }),
    ssl: sslFromUrl(params),
    applicationName: application_name,
    searchPath: parseSearchPath(search_path, (value, allowed) =>
      invalidUrlParameter('postgres', 'search_path', value, allowed),
    ),
    connectTimeoutMs:
      connect_timeout === undefined
        ? undefined
        : parseWholeNumberParameter('postgres', 'connect_timeout', connect_timeout, 'seconds') * 1000,
    statementTimeoutMs:
      statement_timeout === undefined
        ? undefined
        : parseWholeNumberParameter('postgres', 'statement_timeout', statement_timeout, 'milliseconds'),
  };
}
