import {
  type Adapter,
  connectPreferringTls,
  MultiHostConnector,
  workerBridgeSupport,
} from '@sessionfactory/core/adapter';
import type { ClientConfig } from 'pg';
import { cancelPostgresBackend, cancelThroughPooler } from './cancel-postgres-backend.js';
import { classifyPostgresError } from './classify-postgres-error.js';
import { postgresCapabilities } from './postgres-capabilities.js';
import type { PostgresConfig } from './postgres-config.js';
import { PostgresConnection } from './postgres-connection.js';
import { postgresDialectSql } from './postgres-dialect-sql.js';
import { postgresKyselyParts } from './postgres-kysely-parts.js';
import { postgresReplication } from './postgres-replication.js';
import { resolvePostgresConfig } from './resolve-postgres-config.js';

/**
 * The Postgres adapter over `pg`. Takes a `postgres:`/`postgresql:` URL or a
 * `PostgresConfig`; bad input throws `ConfigurationError` at once. No connection is opened
 * until core's pool asks for one.
 *
 * @example
 * ```ts
 * import { createSessionFactory } from '@sessionfactory/core'
 * import { postgres } from '@sessionfactory/pg'
 *
 * const sf = createSessionFactory<DB>(postgres('postgres://app:secret@localhost:5432/app'))
 * const sf2 = createSessionFactory<DB>(postgres({ host: 'localhost', database: 'app', searchPath: 'tenant_1' }))
 * ```
 */
export function postgres(urlOrConfig: string | PostgresConfig): Adapter {
  const {
    clientConfig,
    preferTls,
    searchPath,
    description,
    hosts,
    targetSessionAttrs,
    transactionPooling,
    statementCacheSize,
  } = resolvePostgresConfig(urlOrConfig);
  // sslmode=prefer: TLS when the server offers it, plaintext when it says it does not.
  const open = (config: ClientConfig, path: readonly string[] | undefined) =>
    preferTls
      ? connectPreferringTls((tls) =>
          PostgresConnection.open(
            { ...config, ssl: tls ? config.ssl : false },
            path,
            transactionPooling,
            statementCacheSize,
          ),
        )
      : PostgresConnection.open(config, path, transactionPooling, statementCacheSize);
  const capabilities =
    transactionPooling === undefined ? postgresCapabilities : { ...postgresCapabilities, sessionState: false };
  // Several hosts, or a role to check: core's connector tries them in order (pg has no multi-host support).
  const connector =
    hosts === undefined && targetSessionAttrs === 'any'
      ? undefined
      : new MultiHostConnector<PostgresConnection>({
          dialect: 'postgres',
          // One host with a role to check: pg's own defaults (PGHOST, PGPORT) still apply.
          hosts: hosts ?? [{ host: clientConfig.host ?? '(default host)', port: clientConfig.port }],
          target: targetSessionAttrs,
          open: (host) =>
            hosts === undefined
              ? open(clientConfig, searchPath)
              : open({ ...clientConfig, host: host.host, port: host.port }, searchPath),
          role: (connection) => connection.role(),
          close: (connection) => connection.close(),
          classifyError: classifyPostgresError,
        });
  return {
    dialect: 'postgres',
    description,
    // A config holding functions (custom type parsers, a password callback) cannot be rebuilt in a worker.
    ...workerBridgeSupport({
      module: '@sessionfactory/pg',
      resolveFrom: import.meta.url,
      exportName: 'postgres',
      input: urlOrConfig,
      capabilities,
    }),
    sql: postgresDialectSql,
    kysely: postgresKyselyParts,
    connect: () => connector?.connect() ?? open(clientConfig, searchPath),
    cancel: (connection) =>
      transactionPooling === undefined
        ? cancelPostgresBackend(clientConfig, connection, open)
        : cancelThroughPooler(connection as PostgresConnection),
    classifyError: classifyPostgresError,
    replication: postgresReplication(urlOrConfig, postgres),
  };
}
