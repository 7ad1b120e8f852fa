import type { ConnectionOptions } from 'node:tls';
import type { ServerConnectionConfig, TargetSessionAttrs } from '@sessionfactory/core/adapter';
import type { ClientConfig } from 'pg';

/**
 * How to reach a Postgres server: core's shared server fields (`url`, `host`, `port`, `user`,
 * `password`, `database`, `ssl`, `connectTimeoutMs`, `driverOptions`) plus Postgres' own. Every
 * field is optional: fields given here override the matching part of `url`, and anything left
 * unset falls back to pg's own defaults (`PGHOST`, `PGUSER`, ... then `localhost:5432`).
 * `url` is `postgres://user:password@host:port/database?sslmode=require&application_name=app`;
 * `ssl: true` verifies the server certificate (pass TLS options for a custom CA or to skip
 * verification); `ssl: 'prefer'` is TLS without certificate checks when the server offers it and
 * plaintext when it does not (libpq's `sslmode=prefer`); `connectTimeoutMs` defaults to 10000 (0 waits for the OS); `driverOptions` takes
 * extra `pg.ClientConfig` fields (`keepAlive`, `types`, ...), and the fields above win over them.
 */
export interface PostgresConfig
  extends ServerConnectionConfig<ConnectionOptions, Omit<ClientConfig, 'connectionString'>> {
  /** Shown in `pg_stat_activity.application_name`. */
  readonly applicationName?: string | undefined;
  /** Schemas set as the connection's `search_path` at connect: `'app'`, `'app, public'` or `['app', 'public']`. */
  readonly searchPath?: string | readonly string[] | undefined;
  /** Server-side `statement_timeout` for every statement on the connection (default: the server's). */
  readonly statementTimeoutMs?: number | undefined;
  /**
   * Command-line options sent to the server at connection start, as libpq's `options`:
   * `'-c search_path=app -c statement_timeout=5000'`. The URL's `options` parameter sets it.
   */
  readonly options?: string | undefined;
  /** Use SCRAM channel binding when the server offers it (the URL's `channel_binding=prefer|require`). */
  readonly channelBinding?: boolean | undefined;
  /** TCP keepalive on the socket (the URL's `keepalives=1`). */
  readonly keepAlive?: boolean | undefined;
  /** Idle time before the first keepalive probe, in milliseconds (the URL's `keepalives_idle`, in seconds). */
  readonly keepAliveIdleMs?: number | undefined;
  /**
   * Which server a connection must reach (libpq's `target_session_attrs`), checked right after
   * connecting: `'any'` (default), `'read-write'`, `'read-only'`, `'primary'`, `'standby'`,
   * `'prefer-standby'`. With a multi-host URL (`postgres://db1:5432,db2:5432/app`) the hosts are
   * tried in order until one fits; that is how a factory follows a failover.
   *
   * @example
   * ```ts
   * postgres({ url: 'postgres://app@db1:5432,db2:5432/app', targetSessionAttrs: 'read-write' })
   * ```
   */
  readonly targetSessionAttrs?: TargetSessionAttrs | undefined;
  /**
   * The server is a transaction pooler (PgBouncer with `pool_mode = transaction`; the URL's
   * `transaction_pooling=true`): each transaction may run on another server connection, so
   * nothing is set per connection. `searchPath` and `statementTimeoutMs` become `SET LOCAL` in
   * every transaction (a statement outside a session gets a short transaction of its own when
   * either is set), cancel uses the protocol's cancel request (PgBouncer forwards it), and
   * `capabilities.sessionState` is false. Named statements are off (`statementCacheSize` 0)
   * unless `statementCacheSize` is given (PgBouncer 1.21+ with `max_prepared_statements` takes them).
   *
   * @example
   * ```ts
   * postgres({ url: 'postgres://app@127.0.0.1:6432/app', transactionPooling: true, searchPath: 'tenant_1' })
   * ```
   */
  readonly transactionPooling?: boolean | undefined;
  /**
   * How many statements each connection keeps prepared on the server (the URL's
   * `statement_cache_size`; default 100, 0 turns it off; default 0 with `transactionPooling`). A
   * query text run a second time on a connection becomes a named statement: Postgres parses and
   * plans it once per connection instead of on every run. Texts with a `*` other than
   * `count(*)` (`SELECT *`, `RETURNING *`) are never named, so a column added by a migration
   * cannot break them; least recently used names are closed when the cache is full.
   *
   * @example
   * ```ts
   * postgres({ url: 'postgres://app@db/app', statementCacheSize: 500 })
   * postgres('postgres://app@db/app?statement_cache_size=0') // every statement unnamed
   * ```
   */
  readonly statementCacheSize?: number | undefined;
}
