import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { adapterConfigError, invalidUrlParameter, parseBooleanParameter } from '@sessionfactory/core/adapter';

type SslSetting = boolean | 'prefer' | ConnectionOptions;

const SSL_MODES: Readonly<Record<string, SslSetting>> = {
  disable: false,
  // libpq's allow tries plaintext first, prefer TLS first; pg cannot do both orders, so both
  // take TLS when the server offers it and plaintext when it does not (see connectPreferringTls).
  allow: 'prefer',
  prefer: 'prefer',
  // pg verifies certificates for every encrypting mode (libpq's `require` does not): safer by default.
  require: true,
  'verify-ca': true,
  'verify-full': true,
  'no-verify': { rejectUnauthorized: false },
};

/** The URL parameters that name certificate files, and the TLS option each one fills. */
const CERT_FILES = { sslrootcert: 'ca', sslcert: 'cert', sslkey: 'key' } as const;

/**
 * Maps the URL's `sslmode` (or `ssl=true|false|1|0`) and certificate files (`sslrootcert`,
 * `sslcert`, `sslkey`, read at once) to the adapter's `ssl` option. `prefer` and `allow` give
 * `'prefer'`: TLS without certificate checks when the server offers it, plaintext otherwise.
 * `verify-ca` checks the chain but not the host name. `sslrootcert=system` means the default
 * trusted CAs. A file that cannot be read is a `ConfigurationError` naming the parameter.
 *
 * @example
 * ```ts
 * sslFromUrl({ sslmode: 'no-verify' })                                // { rejectUnauthorized: false }
 * sslFromUrl({ sslmode: 'verify-full', sslrootcert: '/etc/rds.pem' }) // { ca: '-----BEGIN CERTIFICATE-----...' }
 * sslFromUrl({})                                                     // undefined
 * ```
 */
export function sslFromUrl(params: Readonly<Record<string, string>>): SslSetting | undefined {
  const { sslmode, ssl } = params;
  let mode: SslSetting | undefined;
  if (sslmode !== undefined) {
    mode = SSL_MODES[sslmode];
    if (mode === undefined) {
      throw invalidUrlParameter('postgres', 'sslmode', sslmode, `one of ${Object.keys(SSL_MODES).join(', ')}`);
    }
  } else if (ssl !== undefined) {
    mode = parseBooleanParameter('postgres', 'ssl', ssl);
  }
  const files = readCertificateFiles(params);
  if (files === undefined) return mode;
  if (mode === false || mode === 'prefer') {
    throw adapterConfigError(
      'postgres',
      `URL parameters ${Object.keys(files.given).join(', ')} need an encrypting sslmode (require, verify-ca or verify-full), not sslmode=${sslmode ?? ssl}`,
    );
  }
  const base = typeof mode === 'object' ? mode : {};
  // verify-ca: the certificate must chain to the given CA, whatever host name it names.
  const chainOnly = sslmode === 'verify-ca' ? { checkServerIdentity: () => undefined } : {};
  return { ...base, ...files.options, ...chainOnly };
}

function readCertificateFiles(
  params: Readonly<Record<string, string>>,
): { given: Record<string, string>; options: ConnectionOptions } | undefined {
  const given: Record<string, string> = {};
  const options: Record<string, string> = {};
  for (const [parameter, option] of Object.entries(CERT_FILES)) {
    const path = params[parameter];
    if (path === undefined) continue;
    given[parameter] = path;
    if (parameter === 'sslrootcert' && path === 'system') continue;
    try {
      options[option] = readFileSync(path, 'utf8');
    } catch (error) {
      const reason = (error as { code?: string }).code ?? 'unreadable';
      throw invalidUrlParameter('postgres', parameter, path, `a readable certificate file (${reason})`);
    }
  }
  return Object.keys(given).length === 0 ? undefined : { given, options };
}
