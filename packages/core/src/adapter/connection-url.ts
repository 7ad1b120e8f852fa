import { ConfigurationError } from '../errors/error-classes.js';
import { redactPassword } from '../errors/redact.js';

/** A server database URL split into parts (`postgres://user:pass@host:port/db?opt=1`). */
export interface ConnectionUrl {
  /** Without the colon: `postgres`, `mysql`, ... */
  readonly scheme: string;
  readonly user: string | undefined;
  readonly password: string | undefined;
  readonly host: string | undefined;
  readonly port: number | undefined;
  readonly database: string | undefined;
  /** Query-string options. */
  readonly params: Readonly<Record<string, string>>;
  /** The URL with the password replaced by `***`, safe for messages and logs. */
  readonly redacted: string;
}

/**
 * Parses a server database URL. Adapters share it so every dialect accepts URLs the same
 * way and reports a bad one with the same `ConfigurationError`, password redacted.
 *
 * @example
 * ```ts
 * const u = parseConnectionUrl('postgres://app:secret@db:5432/shop?sslmode=require', ['postgres', 'postgresql'])
 * u.host // 'db'; u.password // 'secret'; u.redacted // 'postgres://app:***@db:5432/shop?sslmode=require'
 * ```
 */
export function parseConnectionUrl(url: string, schemes: readonly string[]): ConnectionUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Not echoed: a malformed URL may hide its password from redaction.
    throw new ConfigurationError(
      `Invalid database URL (not shown, it may contain a password): expected ${schemes[0]}://user:password@host:port/database, with special characters in the password percent-encoded.`,
    );
  }
  const scheme = parsed.protocol.replace(/:$/, '');
  if (!schemes.includes(scheme)) {
    throw new ConfigurationError(
      `Database URL scheme "${scheme}:" is not handled by this adapter; use one of: ${schemes.map((s) => `${s}:`).join(', ')}`,
    );
  }
  const port = parsed.port === '' ? undefined : Number(parsed.port);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || undefined;
  return {
    scheme,
    user: parsed.username === '' ? undefined : decodeURIComponent(parsed.username),
    password: parsed.password === '' ? undefined : decodeURIComponent(parsed.password),
    host: parsed.hostname === '' ? undefined : parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    database,
    params: Object.fromEntries(parsed.searchParams),
    redacted: redactPassword(url),
  };
}
