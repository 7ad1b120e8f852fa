import {
  adapterConfigError,
  invalidUrlParameter,
  isPlainObject,
  parseBooleanParameter,
  parseWholeNumberParameter,
} from '@sessionfactory/core/adapter';
import type { SslOptions } from 'mysql2';

/** URL schemes this adapter accepts. */
export const MYSQL_URL_SCHEMES = ['mysql', 'mariadb'] as const;

/**
 * Query-string parameters a `mysql://` URL may carry; any other one is a `ConfigurationError`
 * naming it. Besides this adapter's own names, the ones hosted providers put in their URLs:
 * `ssl` as JSON (PlanetScale, TiDB Cloud), `ssl-mode`/`sslmode` (Aiven, the MySQL CLI's names),
 * `sslaccept` (Prisma's), `connectTimeout` (mysql2's) and `socketPath`/`socket` for a Unix socket.
 */
export const MYSQL_URL_PARAMETERS = [
  'ssl',
  'ssl-mode',
  'sslmode',
  'sslaccept',
  'charset',
  'timezone',
  'connectTimeoutMs',
  'connectTimeout',
  'socketPath',
  'socket',
  'wsrepSyncWait',
  'flavor',
] as const;

type SslSetting = boolean | 'prefer' | SslOptions;

/** MySQL's `--ssl-mode` values. Encrypting modes verify the certificate, as `ssl: true` does. */
const SSL_MODES: Readonly<Record<string, SslSetting>> = {
  DISABLED: false,
  PREFERRED: 'prefer',
  REQUIRED: true,
  VERIFY_CA: true,
  VERIFY_IDENTITY: true,
};

const SSL_ACCEPT: Readonly<Record<string, boolean>> = { strict: true, accept_invalid_certs: false };

/**
 * Turns a URL's query parameters into config fields. `ssl` is `true`/`false`/`1`/`0` or a JSON
 * object of TLS options (`ssl={"rejectUnauthorized":true}`); `ssl-mode` (or `sslmode`, any case)
 * is `DISABLED`, `PREFERRED` (TLS if the server offers it), `REQUIRED`, `VERIFY_CA` or
 * `VERIFY_IDENTITY`; `sslaccept=strict|accept_invalid_certs` sets certificate verification;
 * `charset`, `timezone`, `connectTimeoutMs` (or `connectTimeout`, ms), `socketPath` (or
 * `socket`), `wsrepSyncWait` (Galera) and `flavor` (`mariadb` or `mysql`). They are checked
 * again as options afterwards.
 *
 * @example
 * ```ts
 * readMysqlUrlParams({ 'ssl-mode': 'REQUIRED', connectTimeoutMs: '5000' })
 * // { ssl: true, charset: undefined, timezone: undefined, connectTimeoutMs: 5000,
 * //   socketPath: undefined, flavor: undefined, wsrepSyncWait: undefined }
 * readMysqlUrlParams({ ssl: '{"rejectUnauthorized":true}' }).ssl // { rejectUnauthorized: true }
 * ```
 */
export function readMysqlUrlParams(params: Readonly<Record<string, string>>) {
  const { charset, timezone } = params;
  const connectTimeout = pick(params, 'connectTimeoutMs', 'connectTimeout');
  const socketPath = pick(params, 'socketPath', 'socket');
  return {
    ssl: readSsl(params),
    charset,
    // A `+` in a query string decodes to a space: `timezone=+02:00` arrives as ` 02:00`.
    timezone: timezone?.replace(/^ /, '+'),
    connectTimeoutMs:
      connectTimeout === undefined
        ? undefined
        : parseWholeNumberParameter('mysql', connectTimeout.name, connectTimeout.value, 'milliseconds'),
    socketPath: socketPath?.value,
    flavor: params.flavor,
    wsrepSyncWait:
      params.wsrepSyncWait === undefined
        ? undefined
        : parseWholeNumberParameter('mysql', 'wsrepSyncWait', params.wsrepSyncWait, 'wsrep_sync_wait bits (0-15)'),
  };
}

function readSsl(params: Readonly<Record<string, string>>): SslSetting | undefined {
  const mode = pick(params, 'ssl-mode', 'sslmode');
  const fromMode = mode === undefined ? undefined : sslMode(mode.name, mode.value);
  const fromSsl = params.ssl === undefined ? undefined : sslParameter(params.ssl);
  if (fromMode === false && fromSsl !== undefined && fromSsl !== false) {
    throw adapterConfigError(
      'mysql',
      `URL parameters ${mode?.name}=DISABLED and ssl=${params.ssl} contradict each other`,
    );
  }
  let ssl = fromSsl ?? fromMode;
  const accept = params.sslaccept;
  if (accept !== undefined) {
    const verify = SSL_ACCEPT[accept];
    if (verify === undefined) {
      throw invalidUrlParameter('mysql', 'sslaccept', accept, 'strict or accept_invalid_certs');
    }
    if (ssl === false) throw adapterConfigError('mysql', 'URL parameter sslaccept needs TLS, but ssl is off');
    ssl = { ...(typeof ssl === 'object' ? ssl : {}), rejectUnauthorized: verify };
  }
  return ssl;
}

function sslMode(name: string, value: string): SslSetting {
  const mode = SSL_MODES[value.toUpperCase()];
  if (mode === undefined)
    throw invalidUrlParameter('mysql', name, value, `one of ${Object.keys(SSL_MODES).join(', ')}`);
  return mode;
}

// `ssl` is a boolean or, as mysql2 and the providers write it, a JSON object of TLS options.
function sslParameter(value: string): SslSetting {
  if (!/^\s*[[{]/.test(value)) return parseBooleanParameter('mysql', 'ssl', value);
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    parsed = undefined;
  }
  if (!isPlainObject(parsed) || !Object.values(parsed).every(isJsonScalar)) {
    throw invalidUrlParameter(
      'mysql',
      'ssl',
      value,
      'true, false or a JSON object of TLS options such as {"rejectUnauthorized":true}',
    );
  }
  return parsed as SslOptions;
}

function isJsonScalar(value: unknown): boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

// Two names for one setting (ours and the driver's or the CLI's): either may be used, not both.
function pick(
  params: Readonly<Record<string, string>>,
  name: string,
  alias: string,
): { name: string; value: string } | undefined {
  if (params[name] !== undefined && params[alias] !== undefined) {
    throw adapterConfigError('mysql', `URL parameters ${name} and ${alias} mean the same; give only one`);
  }
  if (params[name] !== undefined) return { name, value: params[name] };
  if (params[alias] !== undefined) return { name: alias, value: params[alias] };
  return undefined;
}
