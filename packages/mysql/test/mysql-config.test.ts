import { ConfigurationError } from '@sessionfactory/core';
import { describe, expect, it } from 'vitest';
import { resolveMysqlConfig } from '../src/config/resolve-mysql-config.js';
import { type MysqlConfig, mysql } from '../src/index.js';

const SECRET = 'hunter2';

describe('resolveMysqlConfig', () => {
  it('reads every part of a mysql: URL', () => {
    const { connectionOptions, description } = resolveMysqlConfig(
      `mysql://app:${SECRET}@db.internal:3307/shop?ssl=true&charset=utf8mb4&timezone=Z&connectTimeoutMs=5000`,
    );
    expect(connectionOptions).toStrictEqual({
      host: 'db.internal',
      port: 3307,
      user: 'app',
      password: SECRET,
      database: 'shop',
      ssl: {},
      charset: 'utf8mb4',
      timezone: 'Z',
      connectTimeout: 5000,
    });
    expect(description).toBe(
      'mysql://app:***@db.internal:3307/shop?ssl=true&charset=utf8mb4&timezone=Z&connectTimeoutMs=5000',
    );
  });

  it('accepts mariadb: and fills defaults', () => {
    const { connectionOptions, description } = resolveMysqlConfig('mariadb://root@localhost');
    expect(connectionOptions).toStrictEqual({ host: 'localhost', port: 3306, user: 'root' });
    expect(description).toBe('mariadb://root@localhost');
  });

  it('decodes percent-encoded credentials and a + offset timezone', () => {
    const { connectionOptions } = resolveMysqlConfig('mysql://a%40b:p%2Fw@h/d?timezone=+02:00');
    expect(connectionOptions).toMatchObject({ user: 'a@b', password: 'p/w', timezone: '+02:00' });
  });

  it('lets config fields override the URL and describes the real target, password redacted', () => {
    const { connectionOptions, description } = resolveMysqlConfig({
      url: 'mysql://app@old-host:3306/shop?ssl=true',
      host: 'new-host',
      password: SECRET,
      ssl: false,
      driverOptions: { supportBigNumbers: true },
    });
    expect(connectionOptions).toStrictEqual({
      supportBigNumbers: true,
      host: 'new-host',
      port: 3306,
      user: 'app',
      password: SECRET,
      database: 'shop',
    });
    expect(description).toBe('mysql://app:***@new-host:3306/shop');
  });

  it('builds a description from a config object without a URL', () => {
    const { description } = resolveMysqlConfig({ host: '::1', user: 'app', password: SECRET });
    expect(description).toBe('mysql://app:***@[::1]:3306/');
  });

  it('copies an ssl object instead of handing out the caller’s', () => {
    const ssl = { rejectUnauthorized: false };
    const { connectionOptions } = resolveMysqlConfig({ user: 'app', ssl });
    expect(connectionOptions.ssl).toStrictEqual(ssl);
    expect(connectionOptions.ssl).not.toBe(ssl);
  });

  const bad: readonly { name: string; input: unknown; message: RegExp }[] = [
    { name: 'a number', input: 42, message: /expected a mysql:\/\/ URL or a config object, got number/ },
    { name: 'null', input: null, message: /got null/ },
    {
      name: 'an unknown option',
      input: { user: 'a', hots: 'x' },
      message: /unknown option "hots"; known options: url, host/,
    },
    {
      name: 'a non-string url',
      input: { url: 5 },
      message: /invalid option "url": 5; expected a non-empty string such as mysql:\/\//,
    },
    {
      name: 'an unparsable URL',
      input: `mysql//app:${SECRET}@h`,
      message: /Invalid database URL \(not shown.*\): expected mysql:\/\/user:password@host:port\/database/,
    },
    { name: 'a foreign scheme', input: `postgres://app:${SECRET}@h/db`, message: /use one of: mysql:, mariadb:/ },
    {
      name: 'an unknown URL parameter',
      input: `mysql://app:${SECRET}@h/db?sslca=ca.pem`,
      message:
        /unknown URL parameter "sslca" in mysql:\/\/app:\*\*\*@h\/db\?sslca=ca.pem; known parameters: ssl, ssl-mode, sslmode, sslaccept, charset, timezone, connectTimeoutMs/,
    },
    {
      name: 'a bad ssl URL parameter',
      input: `mysql://app:${SECRET}@h/db?ssl=maybe`,
      message: /invalid URL parameter "ssl": "maybe"; expected true or false/,
    },
    {
      name: 'a bad connectTimeoutMs URL parameter',
      input: 'mysql://app@h/db?connectTimeoutMs=soon',
      message: /invalid URL parameter "connectTimeoutMs": "soon"; expected a whole number of milliseconds/,
    },
    {
      name: 'port 0 in the URL',
      input: 'mysql://app@h:0/db',
      message: /invalid option "port": 0; expected an integer from 1 to 65535/,
    },
    {
      name: 'a fractional port',
      input: { user: 'a', port: 3306.5 },
      message: /invalid option "port": 3306.5; expected an integer from 1 to 65535/,
    },
    { name: 'a port as a string', input: { user: 'a', port: '3306' }, message: /invalid option "port": "3306"/ },
    { name: 'no user', input: 'mysql://h/db', message: /no user given; set "user" or put it in the URL/ },
    {
      name: 'an empty host',
      input: { user: 'a', host: '' },
      message: /invalid option "host": ""; expected a non-empty string/,
    },
    {
      name: 'a non-string password',
      input: { user: 'a', password: 1234 },
      message: /invalid option "password": a value of type number; expected a string/,
    },
    { name: 'a non-string database', input: { user: 'a', database: 7 }, message: /invalid option "database": 7/ },
    {
      name: 'a bad ssl',
      input: { user: 'a', ssl: 'yes' },
      message: /invalid option "ssl": "yes"; expected true, false, 'prefer' or an object/,
    },
    {
      name: 'an unknown charset',
      input: { user: 'a', charset: 'klingon' },
      message: /invalid option "charset": "klingon"; expected a MySQL charset or collation/,
    },
    {
      name: 'a bad timezone',
      input: { user: 'a', timezone: 'Europe/Paris' },
      message: /invalid option "timezone": "Europe\/Paris"; expected "local", "Z"/,
    },
    {
      name: 'a zero connect timeout',
      input: { user: 'a', connectTimeoutMs: 0 },
      message: /invalid option "connectTimeoutMs": 0; expected an integer from 1/,
    },
    {
      name: 'non-object driverOptions',
      input: { user: 'a', driverOptions: [] },
      message: /invalid option "driverOptions": an array; expected an object of mysql2 connection options/,
    },
    {
      name: 'driverOptions repeating an owned option',
      input: { user: 'a', driverOptions: { connectTimeout: 5 } },
      message: /"driverOptions.connectTimeout": not allowed.*; use the connectTimeoutMs option instead/,
    },
    {
      name: 'driverOptions carrying a password',
      input: { user: 'a', driverOptions: { password: SECRET } },
      message: /"driverOptions.password": not allowed.*; use the password option instead/,
    },
  ];

  it.each(bad)('rejects $name with a ConfigurationError that explains it', ({ input, message }) => {
    let caught: unknown;
    try {
      resolveMysqlConfig(input as MysqlConfig);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigurationError);
    const text = (caught as Error).message;
    expect(text).toMatch(message);
    expect(text).not.toContain(SECRET);
  });
});

describe('mysql()', () => {
  it('describes itself with the redacted URL and checks input at once', () => {
    const adapter = mysql(`mysql://app:${SECRET}@db:3306/shop`);
    expect(adapter.dialect).toBe('mysql');
    expect(adapter.description).toBe('mysql://app:***@db:3306/shop');
    expect(JSON.stringify({ ...adapter, workerSpec: undefined })).not.toContain(SECRET);
    expect(() => mysql('mysql://db/shop')).toThrow(ConfigurationError);
  });

  it('gives a worker spec that rebuilds the same adapter from clonable data', () => {
    const config: MysqlConfig = {
      url: 'mysql://app@db/shop',
      ssl: { ca: 'PEM' },
      driverOptions: { dateStrings: true },
    };
    const adapter = mysql(config);
    // the package's own entry, resolved from the adapter: the worker finds it from core's folder too
    expect(adapter.workerSpec).toStrictEqual({
      module: expect.stringMatching(/^file:\/\/.*\/mysql\/dist\/index\.js$/),
      exportName: 'mysql',
      args: [config],
    });
    expect(adapter.workerSpec?.args[0]).not.toBe(config);
    expect(adapter.capabilities.sync).toBe('worker');
  });

  it('turns sync scopes off when driverOptions hold functions a worker cannot receive', () => {
    const adapter = mysql({ user: 'app', driverOptions: { typeCast: (_field, next) => next() } });
    expect(adapter.workerSpec).toBeUndefined();
    expect(adapter.capabilities.sync).toBe(false);
  });

  it('declares what MariaDB really does', () => {
    const { capabilities } = mysql('mysql://app@db/shop');
    expect(capabilities).toStrictEqual({
      isolation: {
        'read uncommitted': 'read uncommitted',
        'read committed': 'read committed',
        'repeatable read': 'repeatable read',
        serializable: 'serializable',
      },
      readOnly: true,
      savepoints: true,
      cancel: true,
      sync: 'worker',
      sharedDatabase: true,
      transactionalDdl: false,
      returning: false,
      concurrencyErrors: ['DEADLOCK', 'LOCK_TIMEOUT'],
    });
  });

  it('writes transaction SQL for the text protocol', () => {
    const { sql } = mysql('mysql://app@db/shop');
    expect(sql.begin({ readOnly: false })).toStrictEqual(['START TRANSACTION READ WRITE']);
    expect(sql.begin({ isolation: 'read committed', readOnly: true })).toStrictEqual([
      'SET TRANSACTION ISOLATION LEVEL READ COMMITTED',
      'START TRANSACTION READ ONLY',
    ]);
    expect(sql.commit).toBe('COMMIT');
    expect(sql.rollback).toBe('ROLLBACK');
    expect(sql.savepoint('sp_1')).toBe('SAVEPOINT sp_1');
    expect(sql.releaseSavepoint?.('sp_1')).toBe('RELEASE SAVEPOINT sp_1');
    expect(sql.rollbackToSavepoint('sp_1')).toBe('ROLLBACK TO SAVEPOINT sp_1');
  });

  it('compiles Kysely queries for MySQL', () => {
    const { kysely } = mysql('mysql://app@db/shop');
    expect(kysely.createAdapter().supportsReturning).toBe(false);
    expect(kysely.createQueryCompiler().constructor.name).toBe('MysqlQueryCompiler');
  });
});
