import type { FactoryOptions, SessionFactory } from '@sessionfactory/core';

/**
 * Server-specific SQL and out-of-band operations that some cases need. A missing helper
 * skips only the cases that need it, and only when the adapter's capabilities also say it
 * cannot do the thing (for example `capabilities.cancel === false` for an embedded database).
 */
export interface ConformanceDialect {
  /** A statement that runs for `seconds` seconds (pg: `SELECT pg_sleep(n)`, mysql: `SELECT SLEEP(n)`). */
  sleepSql?(seconds: number): string;
  /** A query returning this connection's server id as column `id` (pg: `SELECT pg_backend_pid() AS id`). */
  connectionIdSql?: string;
  /** Terminates that server session from outside; resolves once the server dropped it. */
  killConnection?(id: number): Promise<void>;
  /** Simulates a server restart: terminates every connection of this run. */
  restartServer?(): Promise<void>;
  /** How many sessions of this run are idle inside an open transaction. */
  idleInTransactionCount?(): Promise<number>;
  /** A statement that makes lock waits of this connection give up after `ms` (rounded up by the server). */
  setLockTimeoutSql?(ms: number): string;
  /** A statement that makes statements of this connection give up after `ms`. */
  setStatementTimeoutSql?(ms: number): string;
}

/** Factories that must fail to connect; a missing entry skips its case with the reason printed. */
export interface FailingFactories {
  /** Wrong credentials. */
  authentication?(): SessionFactory<any>;
  /** A database that does not exist. */
  databaseNotFound?(): SessionFactory<any>;
  /** Nothing listens there (or the file cannot be opened). */
  unreachable?(): SessionFactory<any>;
  /** Asks for TLS from a server that does not offer it (a `ConnectionError`, like any failed handshake). */
  tlsRefused?(): SessionFactory<any>;
  /** Valid credentials for a user that may not use the database (MySQL error 1044): an `AuthenticationError`. */
  databaseAccessDenied?(): SessionFactory<any>;
}

/** What an adapter hands to `describeConformance`: factories on a fresh database, and helpers. */
export interface ConformanceTarget {
  /** A factory on this run's fresh database/schema. Called many times (different pool options per case). */
  createFactory(options?: FactoryOptions): SessionFactory<any>;
  /** Drops the schema/database. */
  teardown(): Promise<void>;
  /** Dialect helpers for cases that need server-specific SQL. */
  dialect: ConformanceDialect;
  /** Factories that must fail to connect, for the connection error classes. */
  failingFactories?: FailingFactories;
}
