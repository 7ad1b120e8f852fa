import { ConfigurationError, type ConnectionUrl, parseConnectionUrl } from '@sessionfactory/core';
import { configurationError } from './config-errors.js';

/** URL schemes this adapter accepts. */
export const MYSQL_URL_SCHEMES = ['mysql', 'mariadb'] as const;

/**
 * Core's `parseConnectionUrl` for the mysql schemes. An unparsable URL is reported without
 * echoing it: core redacts `scheme://user:password@`, but a malformed URL (`mysql//u:pw@h`)
 * does not have that shape, so its password would show.
 *
 * @example
 * ```ts
 * parseMysqlUrl('mariadb://app:secret@db/shop').redacted // 'mariadb://app:***@db/shop'
 * ```
 */
export function parseMysqlUrl(url: string): ConnectionUrl {
  try {
    return parseConnectionUrl(url, MYSQL_URL_SCHEMES);
  } catch (error) {
    if (error instanceof ConfigurationError && error.message.startsWith('Invalid database URL')) {
      throw configurationError('option "url" is not a valid URL; expected mysql://user:password@host:port/database');
    }
    throw error;
  }
}
