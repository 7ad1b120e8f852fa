import { ConfigurationError } from '@sessionfactory/core';
import { describe, expect, it } from 'vitest';
import { type PostgresConfig, postgres } from '../src/index.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, resolvePostgresConfig } from '../src/resolve-postgres-config.js';

const SECRET = 's3cr3t-pw';

describe('postgres() input parsing', () => {
  it('reads every part of a URL and its parameters', () => {
    const { clientConfig, searchPath } = resolvePostgresConfig(
      `postgresql://app%40x:${SECRET}@db.example:6543/shop%20db?sslmode=no-verify&application_name=ledger&search_path=app,public&connect_timeout=5&statement_timeout=2500`,
    );
    expect(clientConfig).toStrictEqual({
      host: 'db.example',
      port: 6543,
      user: 'app@x',
      password: SECRET,
      database: 'shop db',
      ssl: { rejectUnauthorized: false },
      application_name: 'ledger',
      statement_timeout: 2500,
      connectionTimeoutMillis: 5000,
    });
    expect(searchPath).toStrictEqual(['app', 'public']);
  });

  it('leaves unset parts to pg and applies the default connect timeout', () => {
    const { clientConfig, searchPath } = resolvePostgresConfig('postgres://localhost');
    expect(clientConfig).toStrictEqual({ host: 'localhost', connectionTimeoutMillis: DEFAULT_CONNECT_TIMEOUT_MS });
    expect(searchPath).toBeUndefined();
  });

  it.each([
    ['disable', false],
    ['require', true],
    ['verify-ca', true],
    ['verify-full', true],
  ] as const)('maps sslmode=%s', (mode, ssl) => {
    expect(resolvePostgresConfig(`postgres://h/db?sslmode=${mode}`).clientConfig.ssl).toBe(ssl);
  });

  it('takes a Unix socket directory from the host parameter', () => {
    const { clientConfig, description } = resolvePostgresConfig('postgres:///app?host=/var/run/postgresql');
    expect(clientConfig.host).toBe('/var/run/postgresql');
    expect(clientConfig.database).toBe('app');
    expect(description).toBe('postgres:///app?host=/var/run/postgresql');
  });

  it('lets config fields override the URL and merges driverOptions under them', () => {
    const { clientConfig, searchPath } = resolvePostgresConfig({
      url: `postgres://app:${SECRET}@db/shop`,
      port: 6432,
      database: 'other',
      ssl: { rejectUnauthorized: true },
      applicationName: 'worker',
      searchPath: ['tenant one', 'public'],
      connectTimeoutMs: 0,
      statementTimeoutMs: 100,
      driverOptions: { keepAlive: true, port: 1 },
    });
    expect(clientConfig).toStrictEqual({
      keepAlive: true,
      host: 'db',
      port: 6432,
      user: 'app',
      password: SECRET,
      database: 'other',
      ssl: { rejectUnauthorized: true },
      application_name: 'worker',
      statement_timeout: 100,
      connectionTimeoutMillis: 0,
    });
    expect(searchPath).toStrictEqual(['tenant one', 'public']);
  });

  it('builds the adapter as data: dialect, capabilities, SQL, Kysely parts', () => {
    const adapter = postgres('postgres://localhost/app');
    expect(adapter.dialect).toBe('postgres');
    expect(adapter.capabilities.isolation['read uncommitted']).toBe('read committed');
    expect(adapter.capabilities.sync).toBe('worker');
    expect(adapter.kysely.createQueryCompiler().constructor.name).toBe('PostgresQueryCompiler');
    expect(adapter.kysely.createAdapter().constructor.name).toBe('PostgresAdapter');
    expect(adapter.sql.begin({ readOnly: false })).toStrictEqual(['BEGIN READ WRITE']);
    expect(adapter.sql.begin({ isolation: 'repeatable read', readOnly: true })).toStrictEqual([
      'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
    ]);
    expect([adapter.sql.commit, adapter.sql.rollback]).toStrictEqual(['COMMIT', 'ROLLBACK']);
    expect([
      adapter.sql.savepoint('sp_1'),
      adapter.sql.releaseSavepoint?.('sp_1'),
      adapter.sql.rollbackToSavepoint('sp_1'),
    ]).toStrictEqual(['SAVEPOINT sp_1', 'RELEASE SAVEPOINT sp_1', 'ROLLBACK TO SAVEPOINT sp_1']);
  });
});

describe('description', () => {
  it('is the URL with the password redacted', () => {
    const adapter = postgres(`postgres://app:${SECRET}@db:5432/shop?sslmode=disable`);
    expect(adapter.description).toBe('postgres://app:***@db:5432/shop?sslmode=disable');
  });

  it('is built from a config object, password shown as ***', () => {
    const adapter = postgres({ host: '::1', port: 5433, user: 'app', password: SECRET, database: 'shop' });
    expect(adapter.description).toBe('postgres://app:***@[::1]:5433/shop');
  });

  it('puts a Unix socket directory of a config in the host parameter', () => {
    expect(postgres({ host: '/var/run/postgresql', user: 'app', database: 'shop' }).description).toBe(
      'postgres://app@/shop?host=/var/run/postgresql',
    );
  });

  it('reflects config fields that override the URL', () => {
    const adapter = postgres({ url: `postgres://app:${SECRET}@db/shop`, host: 'replica' });
    expect(adapter.description).toBe('postgres://app:***@replica/shop');
  });
});

describe('workerSpec', () => {
  it('rebuilds the same adapter from structured-clonable arguments', () => {
    const config: PostgresConfig = { url: 'postgres://app@db/shop', searchPath: ['app'] };
    const adapter = postgres(config);
    // the package's own entry, resolved from the adapter: the worker finds it from core's folder too
    expect(adapter.workerSpec).toStrictEqual({
      module: expect.stringMatching(/^file:\/\/.*\/pg\/dist\/index\.js$/),
      exportName: 'postgres',
      args: [config],
    });
    const args = structuredClone(adapter.workerSpec?.args) as [PostgresConfig];
    expect(postgres(...args).description).toBe(adapter.description);
  });

  it('is absent, and sync is declared unsupported, when the config holds functions', () => {
    const adapter = postgres({ host: 'db', driverOptions: { types: { getTypeParser: () => String } } });
    expect(adapter.workerSpec).toBeUndefined();
    expect(adapter.capabilities.sync).toBe(false);
  });
});

describe('ConfigurationError', () => {
  const cases: [string, unknown, RegExp][] = [
    ['a number instead of URL or config', 42, /expected a postgres:\/\/ URL or a config object, got number/],
    ['null', null, /got null/],
    ['a malformed URL', `postgres://app:${SECRET}@db:notaport/x`, /Invalid database URL/],
    ['another scheme', `mysql://app:${SECRET}@db/x`, /scheme "mysql:".*postgres:, postgresql:/],
    ['an unknown URL parameter', `postgres://app:${SECRET}@db/x?schema=app`, /unknown URL parameter "schema".*sslmode/],
    [
      'sslmode=maybe',
      'postgres://db/x?sslmode=maybe',
      /"sslmode": "maybe"; expected one of disable, allow, prefer, require/,
    ],
    ['ssl=maybe', 'postgres://db/x?ssl=maybe', /"ssl": "maybe"; expected true or false/],
    ['connect_timeout=abc', 'postgres://db/x?connect_timeout=abc', /"connect_timeout": "abc"; expected a whole number/],
    ['statement_timeout=-1', 'postgres://db/x?statement_timeout=-1', /"statement_timeout": "-1"/],
    ['empty search_path entry', 'postgres://db/x?search_path=a,,b', /"search_path": "a,,b"; expected a schema name/],
    ['an unknown option', { hostname: 'db' }, /unknown option "hostname"; known options: url, host/],
    ['url not a string', { url: 5 }, /"url": 5; expected a non-empty string/],
    ['empty host', { host: '' }, /"host": ""; expected a non-empty string/],
    ['port out of range', { port: 70000 }, /"port": 70000; expected an integer from 1 to 65535/],
    ['fractional port', { port: 5432.5 }, /"port": 5432.5/],
    ['port as string', { port: '5432' }, /"port": "5432"; expected an integer/],
    ['user as number', { user: 1 }, /"user": 1; expected a non-empty string/],
    ['password as number', { password: 1234 }, /"password": a value of type number; expected a string/],
    ['empty database', { database: '' }, /"database": ""/],
    [
      'ssl as string',
      { ssl: 'require' },
      /"ssl": "require"; expected true, false, 'prefer' or an object of TLS options/,
    ],
    ['applicationName as number', { applicationName: 7 }, /"applicationName": 7; expected a string/],
    ['searchPath empty array', { searchPath: [] }, /"searchPath": an array; expected a schema name/],
    ['searchPath with a number', { searchPath: ['a', 1] }, /"searchPath": an array/],
    ['negative connectTimeoutMs', { connectTimeoutMs: -1 }, /"connectTimeoutMs": -1; expected an integer from 0/],
    ['statementTimeoutMs NaN', { statementTimeoutMs: Number.NaN }, /"statementTimeoutMs": NaN/],
    ['driverOptions as string', { driverOptions: 'x' }, /"driverOptions": "x"; expected an object/],
    [
      'driverOptions.connectionString',
      { driverOptions: { connectionString: `postgres://u:${SECRET}@h/d` } },
      /driverOptions.connectionString": not allowed.*use the url option/,
    ],
  ];

  it.each(cases)('rejects %s', (_name, input, message) => {
    let caught: unknown;
    try {
      postgres(input as PostgresConfig);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigurationError);
    expect((caught as Error).message).toMatch(message);
    expect((caught as Error).message).not.toContain(SECRET);
  });

  it('never shows a password value, even a wrong-typed one', () => {
    expect(() => postgres({ password: [SECRET] as unknown as string })).toThrow(/"password": an array/);
  });
});

describe('multi-host URLs and target_session_attrs', () => {
  it('reads the host list and the target; the description keeps the list, password redacted', () => {
    const adapter = postgres(`postgres://app:${SECRET}@db1:5432,db2:5433,db3/shop?target_session_attrs=read-write`);
    expect(adapter.description).toBe('postgres://app:***@db1:5432,db2:5433,db3/shop?target_session_attrs=read-write');
    const resolved = resolvePostgresConfig(
      `postgres://app:${SECRET}@db1:5432,db2:5433,db3/shop?target_session_attrs=primary`,
    );
    expect(resolved.hosts).toEqual([
      { host: 'db1', port: 5432 },
      { host: 'db2', port: 5433 },
      { host: 'db3', port: undefined },
    ]);
    expect(resolved.targetSessionAttrs).toBe('primary');
    expect(resolvePostgresConfig({ host: 'db', targetSessionAttrs: 'standby' }).targetSessionAttrs).toBe('standby');
    expect(resolvePostgresConfig('postgres://db/shop').targetSessionAttrs).toBe('any');
  });

  it('refuses an unknown target, from the URL or the config, without the password', () => {
    for (const input of [
      `postgres://app:${SECRET}@db1,db2/shop?target_session_attrs=master`,
      { url: `postgres://app:${SECRET}@db1,db2/shop`, targetSessionAttrs: 'master' as never },
    ]) {
      let caught: unknown;
      try {
        postgres(input);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ConfigurationError);
      expect((caught as Error).message).toMatch(/master.*read-write/);
      expect((caught as Error).message).not.toContain(SECRET);
    }
  });

  it('all hosts down: a ConnectionError naming each host, no password', async () => {
    const adapter = postgres(`postgres://app:${SECRET}@127.0.0.1:1,127.0.0.1:2/shop?target_session_attrs=read-write`);
    const error = await adapter.connect().catch((e: unknown) => e);
    expect((error as Error).name).toBe('ConnectionError');
    expect((error as Error).message).toMatch(/127\.0\.0\.1:1 \(.*ECONNREFUSED.*\); 127\.0\.0\.1:2 \(/);
    expect((error as Error).message).not.toContain(SECRET);
  });

  it('a single host with target read-write checks the role (the main test server is a primary)', async () => {
    const adapter = postgres('postgres://postgres@127.0.0.1:5432/test?target_session_attrs=read-write');
    const connection = await adapter.connect();
    await connection.close();
    const standby = postgres('postgres://postgres@127.0.0.1:5432/test?target_session_attrs=standby');
    const error = await standby.connect().catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/127\.0\.0\.1:5432 \(not a standby\)/);
  });
});

describe('multi-host cancel', () => {
  it('a timeout cancels the statement on the host the connection went to, not the first listed', async () => {
    const { createSessionFactory, TransactionTimeoutError } = await import('@sessionfactory/core');
    const { sql } = await import('kysely');
    // 127.0.0.1:1 refuses; the connection lands on the test server, where the cancel must go too.
    const sf = createSessionFactory(
      postgres('postgres://postgres@127.0.0.1:1,127.0.0.1:5432/test?target_session_attrs=any'),
    );
    try {
      const started = Date.now();
      const error = await sf
        .session((tx) => sql`select pg_sleep(10)`.execute(tx), { timeoutMs: 300 })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransactionTimeoutError);
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(
        await sf.session(async (tx) => (await sql<{ one: number }>`select 1 as one`.execute(tx)).rows[0]?.one),
      ).toBe(1);
    } finally {
      await sf.close();
    }
  });
});
