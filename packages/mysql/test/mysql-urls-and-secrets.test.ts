// Hosted-provider URLs are accepted (parsed, then connected where the local server allows),
// hostile input is a ConfigurationError, and no password shows up in any public object.
import { inspect } from 'node:util';
import {
  AuthenticationError,
  ConfigurationError,
  ConnectionError,
  createSessionFactory,
  type SessionFactory,
} from '@sessionfactory/core';
import { findSecret } from '@sessionfactory/core/testing';
import { sql } from 'kysely';
import mysql2 from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveMysqlConfig } from '../src/config/resolve-mysql-config.js';
import { mysql } from '../src/index.js';

/** A password with every character that broke redaction: `/`, a space, `@`, `%`. */
const SECRET = 'Zq9kX/Wm4pL Tr7vB@Hn2cD%Jy5fG';
const PW = encodeURIComponent(SECRET);
const SOCKET = '/run/mysqld/mysqld.sock';

describe('URLs hosted providers hand out are accepted', () => {
  const cases: [string, string, Record<string, unknown>][] = [
    [
      'PlanetScale (ssl as JSON)',
      `mysql://u1x2y3:${PW}@aws.connect.psdb.cloud/shop?ssl={"rejectUnauthorized":true}`,
      { host: 'aws.connect.psdb.cloud', database: 'shop', ssl: { rejectUnauthorized: true } },
    ],
    [
      'PlanetScale via Prisma (sslaccept=strict)',
      `mysql://u1x2y3:${PW}@aws.connect.psdb.cloud/shop?sslaccept=strict`,
      { ssl: { rejectUnauthorized: true } },
    ],
    [
      'sslaccept=accept_invalid_certs',
      `mysql://app:${PW}@db/shop?sslaccept=accept_invalid_certs`,
      { ssl: { rejectUnauthorized: false } },
    ],
    [
      'Aiven (ssl-mode=REQUIRED)',
      `mysql://avnadmin:${PW}@mysql-1a2b3c-project.aivencloud.com:12691/defaultdb?ssl-mode=REQUIRED`,
      { port: 12691, database: 'defaultdb', ssl: {} },
    ],
    ['sslmode in lower case', `mysql://app:${PW}@db/shop?sslmode=verify_identity`, { ssl: {} }],
    ['ssl-mode=DISABLED', `mysql://app:${PW}@db/shop?ssl-mode=DISABLED`, { password: SECRET }],
    ['ssl-mode=PREFERRED', `mysql://app:${PW}@db/shop?ssl-mode=PREFERRED`, { ssl: { rejectUnauthorized: false } }],
    [
      'TiDB Cloud (ssl JSON with minVersion)',
      `mysql://2aBcD.root:${PW}@gateway01.us-west-2.prod.aws.tidbcloud.com:4000/test?ssl={"minVersion":"TLSv1.2","rejectUnauthorized":true}`,
      { user: '2aBcD.root', port: 4000, ssl: { minVersion: 'TLSv1.2', rejectUnauthorized: true } },
    ],
    [
      'TiDB Cloud (ssl JSON percent-encoded)',
      `mysql://2aBcD.root:${PW}@gateway01.tidbcloud.com:4000/test?ssl=${encodeURIComponent('{"rejectUnauthorized":true}')}`,
      { ssl: { rejectUnauthorized: true } },
    ],
    ["mysql2's connectTimeout", `mysql://app:${PW}@db/shop?connectTimeout=2500`, { connectTimeout: 2500 }],
    ['a Unix socket parameter', `mysql://root@localhost/test?socketPath=${SOCKET}`, { socketPath: SOCKET }],
    ['the socket alias', `mysql://root@localhost/test?socket=${SOCKET}`, { socketPath: SOCKET }],
    ['a percent-encoded socket as the host', `mysql://root@${encodeURIComponent(SOCKET)}/test`, { socketPath: SOCKET }],
  ];

  it.each(cases)('%s', (_name, url, expected) => {
    const { connectionOptions } = resolveMysqlConfig(url);
    expect(connectionOptions).toMatchObject(expected);
    const adapter = mysql(url);
    expect(findSecret(SECRET, adapter, adapter.description)).toBeUndefined();
  });

  it('a socket path replaces host and port', () => {
    const { connectionOptions } = resolveMysqlConfig(`mysql://root@localhost:3306/test?socketPath=${SOCKET}`);
    expect(connectionOptions.host).toBeUndefined();
    expect(connectionOptions.port).toBeUndefined();
  });
});

describe('against the local server (no TLS)', () => {
  const opened: SessionFactory<any>[] = [];
  const open = (url: string) => {
    const sf = createSessionFactory(mysql(url));
    opened.push(sf);
    return sf;
  };
  const NO_ACCESS = 'sf_urls_no_access';
  beforeAll(async () => {
    const admin = await mysql2.createConnection({ host: '127.0.0.1', user: 'root' });
    await admin.query(`CREATE USER IF NOT EXISTS '${NO_ACCESS}'@'%' IDENTIFIED BY ?`, [SECRET]);
    await admin.query(`ALTER USER '${NO_ACCESS}'@'%' IDENTIFIED BY ?`, [SECRET]);
    await admin.end();
  });
  afterAll(async () => {
    for (const sf of opened) await sf.close();
  });

  it('ssl-mode=PREFERRED falls back to plaintext', async () => {
    const sf = open('mysql://root@127.0.0.1:3306/test?ssl-mode=PREFERRED');
    const cipher = await sf.session(async (tx) => {
      const { rows } = await sql<{ Value: string }>`SHOW SESSION STATUS LIKE 'Ssl_cipher'`.execute(tx);
      return rows[0]?.Value;
    });
    expect(cipher).toBe('');
  });

  it.each(['ssl-mode=REQUIRED', 'ssl={"rejectUnauthorized":true}', 'sslaccept=strict'])(
    '%s is a ConnectionError, without the password',
    async (param) => {
      const sf = open(`mysql://root:${PW}@127.0.0.1:3306/test?${param}`);
      const error = await sf.ping().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConnectionError);
      expect(findSecret(SECRET, error)).toBeUndefined();
    },
  );

  it('error 1044 (no access to the database) is an AuthenticationError, without the password', async () => {
    const sf = open(`mysql://${NO_ACCESS}:${PW}@127.0.0.1:3306/test`);
    const error = await sf.ping().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error).toMatchObject({ originalCode: 1044 });
    expect(findSecret(SECRET, error, sf)).toBeUndefined();
  });

  it('connects through the Unix socket, in both URL forms', async () => {
    for (const url of [
      `mysql://root@localhost/test?socketPath=${SOCKET}`,
      `mysql://root@${encodeURIComponent(SOCKET)}/test`,
    ]) {
      await expect(open(url).ping()).resolves.toMatchObject({ serverVersion: expect.any(String) });
    }
  });
});

describe('hostile input is a ConfigurationError, never a TypeError or URIError, and never shows the password', () => {
  const cases: [string, unknown, RegExp][] = [
    [
      'a malformed escape in the password',
      `mysql://app:${PW}%g0@db/shop`,
      /password of the database URL .* malformed percent-escape/,
    ],
    ['a malformed escape in the user', `mysql://a%pp:${PW}@db/shop`, /user of the database URL .* malformed/],
    ['a malformed escape in the database', `mysql://app:${PW}@db/sh%zzop`, /database of the database URL .* malformed/],
    ['a raw / in the password', `mysql://app:${SECRET}@db/shop`, /Invalid database URL \(not shown/],
    ['a misspelled scheme', `mysqll://app:${PW}@db/shop`, /scheme "mysqll:"/],
    [
      'NUL in the database',
      `mysql://app:${PW}@db/shop%00`,
      /database of the database URL .* control character U\+0000/,
    ],
    ['NUL in the user', `mysql://a%00pp:${PW}@db/shop`, /user .* control character U\+0000/],
    ['NUL in a parameter', `mysql://app:${PW}@db/shop?charset=utf8mb4%00`, /parameter "charset" .* control character/],
    ['NUL in user', { user: 'app\u0000' }, /"user": contains the control character U\+0000/],
    ['NUL in password', { password: `${SECRET}\u0000` }, /"password": contains/],
    ['NUL in database', { database: 'shop\u0000' }, /"database": contains/],
    ['NUL in socketPath', { socketPath: '/run/x\u0000' }, /"socketPath": contains/],
    ['NUL in a driver option', { driverOptions: { flags: '-FOUND_ROWS\u0000' } }, /driverOptions\.flags/],
    ['an unknown parameter is named', `mysql://app:${PW}@db/shop?sslca=/ca.pem`, /unknown URL parameter "sslca"/],
    [
      'a bad ssl-mode',
      `mysql://app:${PW}@db/shop?ssl-mode=ALWAYS`,
      /"ssl-mode": "ALWAYS"; expected one of DISABLED, PREFERRED/,
    ],
    [
      'ssl JSON that is not an object',
      `mysql://app:${PW}@db/shop?ssl=[1]`,
      /"ssl": "\[1\]"; expected true, false or a JSON object/,
    ],
    [
      'ssl JSON that does not parse',
      `mysql://app:${PW}@db/shop?ssl={rejectUnauthorized:true}`,
      /a JSON object of TLS options/,
    ],
    ['ssl JSON with a nested object', `mysql://app:${PW}@db/shop?ssl={"ca":{"x":1}}`, /a JSON object of TLS options/],
    ['ssl-mode=DISABLED with ssl on', `mysql://app:${PW}@db/shop?ssl-mode=DISABLED&ssl=true`, /contradict/],
    ['a bad sslaccept', `mysql://app:${PW}@db/shop?sslaccept=lenient`, /"sslaccept": "lenient"/],
    ['sslaccept with ssl off', `mysql://app:${PW}@db/shop?ssl=false&sslaccept=strict`, /sslaccept needs TLS/],
    ['both connect timeout names', `mysql://app:${PW}@db/shop?connectTimeout=1&connectTimeoutMs=1`, /give only one/],
    ['connectTimeoutMs above 2^31-1', { connectTimeoutMs: 2 ** 31 }, /"connectTimeoutMs": 2147483648/],
    ['socketPath in driverOptions', { driverOptions: { socketPath: '/x' } }, /use the socketPath option instead/],
  ];

  it.each(cases)('%s', (_what, input, message) => {
    let error: unknown;
    try {
      mysql(
        (typeof input === 'string'
          ? input
          : { host: 'db', user: 'app', password: SECRET, ...(input as object) }) as never,
      );
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(message);
    expect(findSecret(SECRET, error)).toBeUndefined();
  });
});

describe('no password in any public object', () => {
  const inputs: [string, () => Parameters<typeof mysql>[0]][] = [
    ['a URL', () => `mysql://app:${PW}@db:3306/shop?ssl-mode=REQUIRED`],
    ['a config object', () => ({ host: 'db', user: 'app', password: SECRET, database: 'shop' })],
    ['a config object with a URL', () => ({ url: `mariadb://app:${PW}@db/shop`, port: 3307 })],
  ];

  it.each(inputs)('mysql(%s): console.log, util.inspect, JSON.stringify, description, factory', (_what, input) => {
    const adapter = mysql(input());
    const sf = createSessionFactory(adapter);
    expect(adapter.workerSpec).toBeDefined();
    expect(findSecret(SECRET, adapter, adapter.description, adapter.workerSpec, sf, sf.description)).toBeUndefined();
    expect(inspect(adapter)).toContain('***');
    void sf.close();
  });
});
