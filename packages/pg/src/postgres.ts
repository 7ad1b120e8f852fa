import { type Adapter, connectPreferringTls, workerBridgeSupport } from '@sessionfactory/core/adapter';
import type { ClientConfig } from 'pg';
import { cancelPostgresBackend } from './cancel-postgres-backend.js';
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
  const { clientConfig, preferTls, searchPath, description } = resolvePostgresConfig(urlOrConfig);
  // sslmode=prefer: TLS when the server offers it, plaintext when it says it does not.
  const open = (config: ClientConfig, path: readonly string[] | undefined) =>
    preferTls
      ? connectPreferringTls((tls) => PostgresConnection.open({ ...config, ssl: tls ? config.ssl : false }, path))
      : PostgresConnection.open(config, path);
  return {
    dialect: 'postgres',
    description,
    // A config holding functions (custom type parsers, a password callback) cannot be rebuilt in a worker.
    ...workerBridgeSupport({
      module: '@sessionfactory/pg',
      resolveFrom: import.meta.url,
      exportName: 'postgres',
      input: urlOrConfig,
      capabilities: postgresCapabilities,
    }),
    sql: postgresDialectSql,
    kysely: postgresKyselyParts,
    connect: () => open(clientConfig, searchPath),
    cancel: (connection) => cancelPostgresBackend(clientConfig, connection, open),
    classifyError: classifyPostgresError,
    replication: postgresReplication(urlOrConfig, postgres),
  };
}
