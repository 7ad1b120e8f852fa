import { ConfigurationError } from '../errors/error-classes.js';
import { findControlCharacter } from './control-characters.js';
import { type HostAddress, splitHostList } from './host-list.js';

/** A server database URL split into parts (`postgres://user:pass@host:port/db?opt=1`). */
export interface ConnectionUrl {
  /** Without the colon: `postgres`, `mysql`, ... */
  readonly scheme: string;
  readonly user: string | undefined;
  readonly password: string | undefined;
  /** A host name, an IP address (IPv6 without brackets) or, percent-encoded in the URL, a Unix socket directory. */
  readonly host: string | undefined;
  readonly port: number | undefined;
  /**
   * Every host of a multi-host URL (`h1:5432,h2:5433`), in order; `host` and `port` are the
   * first one's. `undefined` when the URL names one host.
   */
  readonly hosts?: readonly HostAddress[] | undefined;
  readonly database: string | undefined;
  /** Query-string options, decoded. */
  readonly params: Readonly<Record<string, string>>;
  /** The URL as given with the password replaced by `***`, safe for messages and logs. */
  readonly redacted: string;
}

// Stands in for an empty host after credentials (`postgres://app@/shop`, as libpq allows), which WHATWG URL refuses.
const PLACEHOLDER_HOST = 'sessionfactory-no-host.invalid';

/**
 * Parses a server database URL. Adapters share it so every dialect accepts URLs the same
 * way and reports a bad one with the same `ConfigurationError`, password never shown. Besides
 * `scheme://user:password@host:port/database?param=value` it takes what libpq takes: no host
 * (`postgres:///shop`, `postgres://app@/shop`) and a percent-encoded Unix socket directory as the
 * host (`postgres://%2Fvar%2Frun%2Fpostgresql/shop`), and several hosts (`postgres://h1:5432,h2:5433/shop`,
 * listed in `hosts`). Every part is percent-decoded; a malformed
 * escape (`%zz`) or a control character (NUL, newline, ...) in any part is refused, because such
 * values could smuggle extra fields into the connection handshake.
 *
 * @example
 * ```ts
 * const u = parseConnectionUrl('postgres://app:secret@db:5432/shop?sslmode=require', ['postgres', 'postgresql'])
 * u.host // 'db'; u.password // 'secret'; u.redacted // 'postgres://app:***@db:5432/shop?sslmode=require'
 * parseConnectionUrl('postgres://app:p%zz@db/shop', ['postgres'])
 * // throws ConfigurationError: the password of the database URL has a malformed percent-escape ...
 * ```
 */
export function parseConnectionUrl(url: string, schemes: readonly string[]): ConnectionUrl {
  const list = splitHostList(url, redactUrl(url));
  const { parsed, placeholderHost } = parseWhatwg(list?.firstHostUrl ?? url, schemes);
  const scheme = parsed.protocol.replace(/:$/, '');
  if (!schemes.includes(scheme)) {
    throw new ConfigurationError(
      `Database URL scheme "${scheme}:" is not handled by this adapter; use one of: ${schemes.map((s) => `${s}:`).join(', ')}`,
    );
  }
  const redacted = redactUrl(url);
  const rawHost = placeholderHost ? '' : parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  const params: Record<string, string> = {};
  for (const [name, value] of parsed.searchParams) {
    params[checkPart(`parameter "${name}"`, name, redacted)] = checkPart(`parameter "${name}"`, value, redacted);
  }
  return {
    scheme,
    user: decodePart('user', parsed.username, redacted),
    password: decodePart('password', parsed.password, redacted),
    host: decodePart('host', rawHost, redacted),
    port: parsed.port === '' ? undefined : Number(parsed.port),
    ...(list === undefined ? {} : { hosts: list.hosts }),
    database: decodePart('database', parsed.pathname.replace(/^\//, ''), redacted),
    params,
    redacted,
  };
}

/**
 * Replaces the password of a URL with `***`, keeping the rest exactly as given. The userinfo is
 * everything before the last `@` of the authority (which ends at the first `/`, `?` or `#`), as
 * URL parsers read it; a URL without a password comes back unchanged.
 *
 * @example
 * ```ts
 * redactUrl('mysql://app:p@ss@db/shop') // 'mysql://app:***@db/shop'
 * ```
 */
export function redactUrl(url: string): string {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)/i.exec(url);
  if (match === null) return url;
  const [, prefix = '', authority = ''] = match;
  const at = authority.lastIndexOf('@');
  const colon = authority.indexOf(':');
  if (at < 0 || colon < 0 || colon > at) return url;
  return `${prefix}${authority.slice(0, colon)}:***${authority.slice(at)}${url.slice(prefix.length + authority.length)}`;
}

function parseWhatwg(url: string, schemes: readonly string[]): { parsed: URL; placeholderHost: boolean } {
  try {
    return { parsed: new URL(url), placeholderHost: false };
  } catch {
    try {
      if (/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@[/?#]/i.test(url)) {
        return { parsed: new URL(url.replace(/@(?=[/?#])/, `@${PLACEHOLDER_HOST}`)), placeholderHost: true };
      }
    } catch {
      // fall through to the message below
    }
    // Not echoed: a URL that does not parse cannot be redacted reliably.
    throw new ConfigurationError(
      `Invalid database URL (not shown, it may contain a password): expected ${schemes[0]}://user:password@host:port/database, with special characters in the user, password and database (such as / ? # @ % and spaces) percent-encoded.`,
    );
  }
}

function decodePart(
  part: 'user' | 'password' | 'host' | 'database',
  raw: string,
  redacted: string,
): string | undefined {
  if (raw === '') return undefined;
  let value: string;
  try {
    value = decodeURIComponent(raw);
  } catch {
    const shown = part === 'password' ? '' : ` (${JSON.stringify(raw)})`;
    throw new ConfigurationError(
      `The ${part} of the database URL ${redacted}${shown} has a malformed percent-escape: write a literal % as %25, and other special characters as % followed by two hex digits.`,
    );
  }
  return value === '' ? undefined : checkPart(`${part}`, value, redacted);
}

function checkPart(part: string, value: string, redacted: string): string {
  const found = findControlCharacter(value);
  if (found !== undefined) {
    throw new ConfigurationError(
      `The ${part} of the database URL ${redacted} contains the control character ${found}; control characters are not allowed in connection settings.`,
    );
  }
  return value;
}
