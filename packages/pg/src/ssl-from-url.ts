import type { ConnectionOptions } from 'node:tls';
import { invalidUrlParameter, parseBooleanParameter } from '@sessionfactory/core/adapter';

const SSL_MODES: Readonly<Record<string, boolean | ConnectionOptions>> = {
  disable: false,
  // pg verifies certificates for every encrypting mode (libpq's `require` does not): safer by default.
  require: true,
  'verify-ca': true,
  'verify-full': true,
  'no-verify': { rejectUnauthorized: false },
};

/**
 * Maps the URL's `sslmode` (or `ssl=true|false|1|0`) to pg's `ssl` option. `prefer` and `allow`
 * are refused: pg cannot fall back between TLS and plaintext, so they would silently mean
 * something else.
 *
 * @example
 * ```ts
 * sslFromUrl({ sslmode: 'no-verify' }) // { rejectUnauthorized: false }
 * sslFromUrl({})                      // undefined
 * ```
 */
export function sslFromUrl(params: Readonly<Record<string, string>>): boolean | ConnectionOptions | undefined {
  const { sslmode, ssl } = params;
  if (sslmode !== undefined) {
    const mode = SSL_MODES[sslmode];
    if (mode === undefined) {
      throw invalidUrlParameter('postgres', 'sslmode', sslmode, `one of ${Object.keys(SSL_MODES).join(', ')}`);
    }
    return mode;
  }
  return ssl === undefined ? undefined : parseBooleanParameter('postgres', 'ssl', ssl);
}
