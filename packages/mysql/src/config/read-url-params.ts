import { configurationError, invalidValue } from './config-errors.js';
import type { MysqlConfig } from './mysql-config.js';

/** Query-string parameters a `mysql://` URL may carry. */
export const URL_PARAMS = ['ssl', 'charset', 'timezone', 'connectTimeoutMs'] as const;

type UrlParamConfig = Pick<MysqlConfig, (typeof URL_PARAMS)[number]>;

/**
 * Turns a URL's query parameters into config fields; an unknown parameter is an error
 * instead of being ignored, so a typo never silently changes nothing.
 *
 * @example
 * ```ts
 * readUrlParams({ ssl: 'true', connectTimeoutMs: '5000' }) // { ssl: true, connectTimeoutMs: 5000 }
 * ```
 */
export function readUrlParams(params: Readonly<Record<string, string>>): UrlParamConfig {
  const config: { -readonly [K in keyof UrlParamConfig]: UrlParamConfig[K] } = {};
  for (const [name, value] of Object.entries(params)) {
    switch (name) {
      case 'ssl':
        config.ssl = readBoolean(name, value);
        break;
      case 'charset':
        config.charset = value;
        break;
      case 'timezone':
        // A `+` in a query string decodes to a space: `timezone=+02:00` arrives as ` 02:00`.
        config.timezone = value.replace(/^ /, '+');
        break;
      case 'connectTimeoutMs':
        if (!/^\d+$/.test(value))
          throw invalidValue(`URL parameter "${name}"`, value, 'a whole number of milliseconds');
        config.connectTimeoutMs = Number(value);
        break;
      default:
        throw configurationError(`URL parameter "${name}" is not supported; use one of: ${URL_PARAMS.join(', ')}`);
    }
  }
  return config;
}

function readBoolean(name: string, value: string): boolean {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw invalidValue(`URL parameter "${name}"`, value, 'true, false, 1 or 0');
}
