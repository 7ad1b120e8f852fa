import { parseBooleanParameter, parseWholeNumberParameter } from '@sessionfactory/core/adapter';

/** URL schemes this adapter accepts. */
export const MYSQL_URL_SCHEMES = ['mysql', 'mariadb'] as const;

/** Query-string parameters a `mysql://` URL may carry; any other one is a `ConfigurationError`. */
export const MYSQL_URL_PARAMETERS = ['ssl', 'charset', 'timezone', 'connectTimeoutMs'] as const;

/**
 * Turns a URL's query parameters into config fields: `ssl` (`true`, `false`, `1`, `0`),
 * `charset`, `timezone` and `connectTimeoutMs`. They are checked again as options afterwards.
 *
 * @example
 * ```ts
 * readMysqlUrlParams({ ssl: 'true', connectTimeoutMs: '5000' })
 * // { ssl: true, charset: undefined, timezone: undefined, connectTimeoutMs: 5000 }
 * ```
 */
export function readMysqlUrlParams(params: Readonly<Record<string, string>>) {
  const { ssl, charset, timezone, connectTimeoutMs } = params;
  return {
    ssl: ssl === undefined ? undefined : parseBooleanParameter('mysql', 'ssl', ssl),
    charset,
    // A `+` in a query string decodes to a space: `timezone=+02:00` arrives as ` 02:00`.
    timezone: timezone?.replace(/^ /, '+'),
    connectTimeoutMs:
      connectTimeoutMs === undefined
        ? undefined
        : parseWholeNumberParameter('mysql', 'connectTimeoutMs', connectTimeoutMs, 'milliseconds'),
  };
}
