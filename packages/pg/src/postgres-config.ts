import type { ConnectionOptions } from 'node:tls';
import type { ClientConfig } from 'pg';

/**
 * How to reach a Postgres server. Every field is optional: fields given here override the
 * matching part of `url`, and anything left unset falls back to pg's own defaults
 * (`PGHOST`, `PGUSER`, ... then `localhost:5432`).
 */
export interface PostgresConfig {
  /** `postgres://user:password@host:port/database?sslmode=require&application_name=app`. */
  readonly url?: string | undefined;
  readonly host?: string | undefined;
  readonly port?: number | undefined;
  readonly user?: string | undefined;
  readonly password?: string | undefined;
  readonly database?: string | undefined;
  /** `true` verifies the server certificate; pass TLS options for a custom CA or to skip verification. */
  readonly ssl?: boolean | ConnectionOptions | undefined;
  /** Shown in `pg_stat_activity.application_name`. */
  readonly applicationName?: string | undefined;
  /** Schemas set as the connection's `search_path` at connect: `'app'`, `'app, public'` or `['app', 'public']`. */
  readonly searchPath?: string | readonly string[] | undefined;
  /** How long opening one connection may take (default 10000; 0 waits for the OS). */
  readonly connectTimeoutMs?: number | undefined;
  /** Server-side `statement_timeout` for every statement on the connection (default: the server's). */
  readonly statementTimeoutMs?: number | undefined;
  /** Extra `pg.ClientConfig` fields (`keepAlive`, `types`, ...); the fields above win over these. */
  readonly driverOptions?: Omit<ClientConfig, 'connectionString'> | undefined;
}
