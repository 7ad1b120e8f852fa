import type { ConnectionOptions } from 'node:tls';

/** Connection settings after validation, from the URL and the config object merged. */
export interface PostgresSettings {
  readonly host?: string | undefined;
  readonly port?: number | undefined;
  readonly user?: string | undefined;
  readonly password?: string | undefined;
  readonly database?: string | undefined;
  readonly ssl?: boolean | ConnectionOptions | undefined;
  readonly applicationName?: string | undefined;
  readonly searchPath?: readonly string[] | undefined;
  readonly connectTimeoutMs?: number | undefined;
  readonly statementTimeoutMs?: number | undefined;
}
