import { ConfigurationError } from '../errors/error-classes.js';
import { findControlCharacter } from './control-characters.js';

/** One server of a multi-host URL (`h1:5432,h2:5433`): a host name, IP address (IPv6 without brackets) or socket directory, and a port. */
export interface HostAddress {
  readonly host: string;
  /** `undefined`: the adapter's default port. */
  readonly port: number | undefined;
}

/** A URL whose authority lists several hosts, split into the list and a URL naming only the first one. */
export interface SplitHostList {
  /** The URL with the host list replaced by its first entry, for an ordinary URL parser. */
  readonly firstHostUrl: string;
  /** Every host, in the order given (at least two). */
  readonly hosts: readonly HostAddress[];
}

const AUTHORITY = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)/i;
const BRACKETED = /^\[([^\]]+)\](?::(\d*))?$/;
const PLAIN = /^([^:[\]]+)(?::(\d*))?$/;

/**
 * Splits libpq's multi-host form, `scheme://user:password@h1:5432,h2:5433,[::1]:5434/db`, into
 * its hosts. Returns `undefined` for a URL with one host (the ordinary parser handles it). Hosts
 * are percent-decoded (a Unix socket directory may be one); an empty entry, a port outside
 * 1-65535 or a control character is a `ConfigurationError` that shows `redacted`, never the password.
 *
 * @example
 * ```ts
 * splitHostList('postgres://app:pw@db1:5432,db2/shop', 'postgres://app:***@db1:5432,db2/shop')
 * // { firstHostUrl: 'postgres://app:pw@db1:5432/shop',
 * //   hosts: [{ host: 'db1', port: 5432 }, { host: 'db2', port: undefined }] }
 * ```
 */
export function splitHostList(url: string, redacted: string): SplitHostList | undefined {
  const match = AUTHORITY.exec(url);
  if (match === null) return undefined;
  const [, prefix = '', authority = ''] = match;
  const at = authority.lastIndexOf('@');
  const hostPart = authority.slice(at + 1);
  if (!hostPart.includes(',')) return undefined;
  const entries = hostPart.split(',');
  const hosts = entries.map((entry) => parseHostEntry(entry, redacted));
  const firstHostUrl = `${prefix}${authority.slice(0, at + 1)}${entries[0]}${url.slice(prefix.length + authority.length)}`;
  return { firstHostUrl, hosts };
}

function parseHostEntry(entry: string, redacted: string): HostAddress {
  const found = BRACKETED.exec(entry) ?? PLAIN.exec(entry);
  if (found === null || found[1] === undefined) {
    throw new ConfigurationError(
      `The host list of the database URL ${redacted} has an invalid entry ${JSON.stringify(entry)}: write host:port pairs separated by commas, IPv6 addresses in brackets ([::1]:5432), no empty entries.`,
    );
  }
  let host: string;
  try {
    host = decodeURIComponent(found[1]);
  } catch {
    throw new ConfigurationError(
      `The host ${JSON.stringify(found[1])} in the database URL ${redacted} has a malformed percent-escape: write a literal % as %25.`,
    );
  }
  const control = findControlCharacter(host);
  if (control !== undefined) {
    throw new ConfigurationError(
      `The host list of the database URL ${redacted} contains the control character ${control}; control characters are not allowed in connection settings.`,
    );
  }
  const rawPort = found[2];
  if (rawPort === undefined || rawPort === '') return { host, port: undefined };
  const port = Number(rawPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigurationError(
      `The host ${JSON.stringify(host)} in the database URL ${redacted} has the invalid port ${rawPort}: use a whole number from 1 to 65535.`,
    );
  }
  return { host, port };
}
