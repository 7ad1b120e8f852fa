import {
  invalidUrlParameter,
  parseBooleanParameter,
  parseTargetSessionAttrs,
  parseWholeNumberParameter,
} from '@sessionfactory/core/adapter';
import { parseSearchPath } from './parse-search-path.js';
import { sslFromUrl } from './ssl-from-url.js';

/** URL schemes this adapter accepts. */
export const POSTGRES_SCHEMES = ['postgres', 'postgresql'] as const;

/**
 * Query parameters a `postgres:` URL may carry (libpq's names); any other one is a
 * `ConfigurationError` naming it.
 */
export const POSTGRES_URL_PARAMETERS = [
  'sslmode',
  'ssl',
  'sslrootcert',
  'sslcert',
  'sslkey',
  'channel_binding',
  'application_name',
  'fallback_application_name',
  'options',
  'search_path',
  'connect_timeout',
  'statement_timeout',
  'keepalives',
  'keepalives_idle',
  'host',
  'target_session_attrs',
  'transaction_pooling',
  'statement_cache_size',
] as const;

const CHANNEL_BINDING: Readonly<Record<string, boolean>> = { disable: false, prefer: true, require: true };

/**
 * Reads the query parameters of a `postgres:`/`postgresql:` URL into config fields: `sslmode`,
 * `ssl`, `sslrootcert`/`sslcert`/`sslkey` (files, read now), `channel_binding`,
 * `application_name` (or `fallback_application_name`), `options` (e.g. `-c search_path=app`),
 * `search_path`, `connect_timeout` and `keepalives_idle` (seconds, as in libpq), `keepalives`
 * (1/0), `statement_timeout` (ms) and `host` (e.g. a Unix socket directory; it overrides the
 * URL's host, and an empty `host=` clears it) and `target_session_attrs` (which server of a
 * multi-host URL to use: `any`, `read-write`, `read-only`, `primary`, `standby`, `prefer-standby`) and
 * `transaction_pooling` (1/0, true/false: the URL points at PgBouncer in transaction mode) and
 * `statement_cache_size` (named statements per connection, 0 for none). Bad values throw a `ConfigurationError` naming the
 * parameter.
 *
 * @example
 * ```ts
 * readPostgresUrlParams({ connect_timeout: '5', options: '-c search_path=app' })
 * // { connectTimeoutMs: 5000, options: '-c search_path=app', ... }
 * ```
 */
export function readPostgresUrlParams(params: Readonly<Record<string, string>>) {
  const { host, application_name, fallback_application_name, search_path, connect_timeout, statement_timeout } = params;
  const { channel_binding, keepalives, keepalives_idle } = params;
  return {
    ...(host === undefined ? {} : { host: host === '' ? undefined : host }),
    ssl: sslFromUrl(params),
    applicationName: application_name ?? fallback_application_name,
    options: params.options,
    searchPath: parseSearchPath(search_path, (value, allowed) =>
      invalidUrlParameter('postgres', 'search_path', value, allowed),
    ),
    channelBinding: channel_binding === undefined ? undefined : channelBinding(channel_binding),
    keepAlive: keepalives === undefined ? undefined : parseBooleanParameter('postgres', 'keepalives', keepalives),
    keepAliveIdleMs: seconds('keepalives_idle', keepalives_idle),
    connectTimeoutMs: seconds('connect_timeout', connect_timeout),
    transactionPooling:
      params.transaction_pooling === undefined
        ? undefined
        : parseBooleanParameter('postgres', 'transaction_pooling', params.transaction_pooling),
    targetSessionAttrs:
      params.target_session_attrs === undefined
        ? undefined
        : parseTargetSessionAttrs('postgres', params.target_session_attrs),
    statementCacheSize:
      params.statement_cache_size === undefined
        ? undefined
        : parseWholeNumberParameter('postgres', 'statement_cache_size', params.statement_cache_size, 'statements'),
    statementTimeoutMs:
      statement_timeout === undefined
        ? undefined
        : parseWholeNumberParameter('postgres', 'statement_timeout', statement_timeout, 'milliseconds'),
  };
}

// pg offers channel binding (SCRAM-SHA-256-PLUS) when the server does; it cannot refuse a server that does not.
function channelBinding(value: string): boolean {
  const enabled = CHANNEL_BINDING[value];
  if (enabled === undefined) {
    throw invalidUrlParameter('postgres', 'channel_binding', value, 'one of disable, prefer, require');
  }
  return enabled;
}

function seconds(name: string, value: string | undefined): number | undefined {
  return value === undefined ? undefined : parseWholeNumberParameter('postgres', name, value, 'seconds') * 1000;
}
