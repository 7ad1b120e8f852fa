// Hosted-provider URLs are accepted (parsed, then connected where the local server allows),
// hostile input is a ConfigurationError, and no password shows up in any public object.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import {
  ConfigurationError,
  ConnectionError,
  createSessionFactory,
  PoolTimeoutError,
  type SessionFactory,
} from '@sessionfactory/core';
import { findSecret } from '@sessionfactory/core/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgres } from '../src/index.js';
import { resolvePostgresConfig } from '../src/resolve-postgres-config.js';

/** A password with every character that broke redaction: `/`, a space, `@`, `%`. */
const SECRET = 'Zq9kX/Wm4pL Tr7vB@Hn2cD%Jy5fG';
const PW = encodeURIComponent(SECRET);
/** The local server trusts 127.0.0.1, so any password is accepted and ignored. */
const LOCAL = `postgres://postgres:${PW}@127.0.0.1:5432/test`;

let dir: string;
let caFile: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sf-pg-urls-'));
  caFile = join(dir, 'rds-ca.pem');
  writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nMIIB-test-ca\n-----END CERTIFICATE-----\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('URLs hosted providers hand out are accepted', () => {
  const cases: [string, () => string, Record<string, unknown>][] = [
    [
      'Neon (sslmode=require&channel_binding=require)',
      () =>
        `postgresql://neondb_owner:${PW}@ep-cool-darkness-123456.us-east-2.aws.neon.tech/neondb?sslmode=require&channel_binding=require`,
      {
        host: 'ep-cool-darkness-123456.us-east-2.aws.neon.tech',
        database: 'neondb',
        ssl: true,
        enableChannelBinding: true,
      },
    ],
    [
      'RDS (sslmode=verify-full&sslrootcert=<file>)',
      () =>
        `postgres://postgres:${PW}@mydb.abc123.us-east-1.rds.amazonaws.com:5432/postgres?sslmode=verify-full&sslrootcert=${caFile}`,
      { port: 5432, ssl: { ca: '-----BEGIN CERTIFICATE-----\nMIIB-test-ca\n-----END CERTIFICATE-----\n' } },
    ],
    ['sslrootcert=system', () => `postgres://app:${PW}@db/shop?sslmode=verify-full&sslrootcert=system`, { ssl: {} }],
    [
      'options=-c search_path=... (percent-encoded)',
      () => `postgres://app:${PW}@db/shop?options=-c%20search_path%3Dtenant_1%20-c%20statement_timeout%3D5000`,
      { options: '-c search_path=tenant_1 -c statement_timeout=5000' },
    ],
    ['sslmode=prefer', () => `postgres://app:${PW}@db/shop?sslmode=prefer`, { ssl: { rejectUnauthorized: false } }],
    ['sslmode=allow', () => `postgres://app:${PW}@db/shop?sslmode=allow`, { ssl: { rejectUnauthorized: false } }],
    [
      'keepalives and keepalives_idle',
      () => `postgres://app:${PW}@db/shop?keepalives=1&keepalives_idle=30`,
      { keepAlive: true, keepAliveInitialDelayMillis: 30_000 },
    ],
    [
      'connect_timeout and application_name',
      () => `postgres://app:${PW}@db/shop?connect_timeout=10&application_name=billing`,
      { connectionTimeoutMillis: 10_000, application_name: 'billing' },
    ],
    [
      'fallback_application_name',
      () => `postgres://app:${PW}@db/shop?fallback_application_name=psql`,
      { application_name: 'psql' },
    ],
    [
      'a Unix socket in the host parameter',
      () => 'postgres:///shop?host=/var/run/postgresql',
      { host: '/var/run/postgresql', database: 'shop' },
    ],
    [
      'a user and no host (libpq: the default socket, here given by host=)',
      () => `postgres://app:${PW}@/shop?host=/var/run/postgresql`,
      { host: '/var/run/postgresql', user: 'app', password: SECRET, database: 'shop' },
    ],
    [
      'a percent-encoded socket directory as the host',
      () => 'postgresql://%2Fvar%2Frun%2Fpostgresql/shop',
      { host: '/var/run/postgresql', database: 'shop' },
    ],
    [
      'Supabase pooler (a dotted user name, port 6543)',
      () => `postgresql://postgres.abcdefgh:${PW}@aws-0-us-east-1.pooler.supabase.com:6543/postgres`,
      { user: 'postgres.abcdefgh', port: 6543, password: SECRET },
    ],
  ];

  it.each(cases)('%s', (_name, url, expected) => {
    const { clientConfig } = resolvePostgresConfig(url());
    expect(clientConfig).toMatchObject(expected);
    const adapter = postgres(url());
    expect(findSecret(SECRET, adapter, adapter.description)).toBeUndefined();
  });

  it('verify-ca checks the chain but not the host name', () => {
    const { clientConfig } = resolvePostgresConfig(`postgres://db/x?sslmode=verify-ca&sslrootcert=${caFile}`);
    const ssl = clientConfig.ssl as { checkServerIdentity?: () => unknown; ca?: string };
    expect(ssl.ca).toContain('MIIB-test-ca');
    expect(ssl.checkServerIdentity?.()).toBeUndefined();
  });
});

describe('against the local server (no TLS)', () => {
  const opened: SessionFactory<any>[] = [];
  const open = (url: string, options = {}) => {
    const sf = createSessionFactory(postgres(url), options);
    opened.push(sf);
    return sf;
  };
  afterAll(async () => {
    for (const sf of opened) await sf.close();
  });

  it('sslmode=prefer and sslmode=allow fall back to plaintext', async () => {
    for (const mode of ['prefer', 'allow']) {
      const sf = open(`${LOCAL}?sslmode=${mode}`);
      const { rows } = await sf.session((tx) =>
        sql<{ ssl: boolean }>`SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`.execute(tx),
      );
      expect(rows[0]?.ssl).toBe(false);
    }
  });

  it('sslmode=require is a ConnectionError, without the password', async () => {
    const sf = open(`${LOCAL}?sslmode=require`);
    const error = await sf.ping().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as Error).message).toMatch(/does not support SSL/);
    expect(findSecret(SECRET, error)).toBeUndefined();
  });

  it('options, keepalives, connect_timeout and application_name reach the server', async () => {
    const sf = open(
      `${LOCAL}?options=-c%20search_path%3Dsf_custom_path%20-c%20statement_timeout%3D4321&keepalives=1&keepalives_idle=30&connect_timeout=5&application_name=sf_url_test`,
    );
    const row = await sf.session(async (tx) => {
      const { rows } = await sql<{
        sp: string;
        st: string;
        app: string;
      }>`SELECT current_setting('search_path') AS sp, current_setting('statement_timeout') AS st, current_setting('application_name') AS app`.execute(
        tx,
      );
      return rows[0];
    });
    expect(row).toEqual({ sp: 'sf_custom_path', st: '4321ms', app: 'sf_url_test' });
  });

  it('connects through the Unix socket, in both URL forms', async () => {
    for (const url of [
      'postgres://postgres@/test?host=/var/run/postgresql',
      'postgres://postgres@%2Fvar%2Frun%2Fpostgresql/test',
    ]) {
      const sf = open(url);
      await expect(sf.ping()).resolves.toMatchObject({ serverVersion: expect.any(String) });
    }
  });

  it('a server that accepts but never answers is a ConnectionError after connect_timeout', async () => {
    const server: Server = createServer(() => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      const sf = open(`postgres://postgres:${PW}@127.0.0.1:${port}/test?connect_timeout=1`);
      const started = Date.now();
      const error = await sf.ping().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConnectionError);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(findSecret(SECRET, error)).toBeUndefined();
    } finally {
      server.close();
    }
  });

  it('a PoolTimeoutError names the target without the password', async () => {
    const sf = open(LOCAL, { pool: { size: 1, maxOverflow: 0, timeoutMs: 100 } });
    const error = await sf
      .session(() => sf.session(async () => 'inner', { propagation: 'requiresNew' }))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(PoolTimeoutError);
    expect((error as Error).message).toContain('postgres://postgres:***@127.0.0.1:5432/test');
    expect(findSecret(SECRET, error, sf, sf.description)).toBeUndefined();
  });
});

describe('hostile input is a ConfigurationError, never a TypeError or URIError, and never shows the password', () => {
  const cases: [string, unknown, RegExp][] = [
    [
      'a malformed escape in the password',
      `postgres://app:${PW}%zz@db/shop`,
      /password of the database URL .* malformed percent-escape/,
    ],
    ['a malformed escape in the user', `postgres://ap%G1p:${PW}@db/shop`, /user of the database URL .* malformed/],
    [
      'a malformed escape in the database',
      `postgres://app:${PW}@db/sh%op`,
      /database of the database URL .* malformed/,
    ],
    ['a raw / in the password', `postgres://app:${SECRET}@db/shop`, /Invalid database URL \(not shown/],
    ['a misspelled scheme', `postgress://app:${PW}@db/shop`, /scheme "postgress:"/],
    [
      'NUL in application_name (would inject startup parameters)',
      `postgres://app:${PW}@db/shop?application_name=x%00database%00postgres`,
      /parameter "application_name" .* control character U\+0000/,
    ],
    [
      'NUL in the database name',
      `postgres://app:${PW}@db/shop%00options%00-c%20default_transaction_read_only%3Don`,
      /database of the database URL .* control character U\+0000/,
    ],
    ['NUL in the user', `postgres://ap%00p:${PW}@db/shop`, /user .* control character U\+0000/],
    [
      'a newline in options',
      `postgres://app:${PW}@db/shop?options=-c%0Astatement_timeout%3D1`,
      /control character U\+000A/,
    ],
    ['NUL in the password', `postgres://app:${PW}%00@db/shop`, /password of the database URL .* control character/],
    [
      'NUL in applicationName',
      { applicationName: 'api\u0000database\u0000postgres' },
      /"applicationName": contains the control character U\+0000/,
    ],
    ['NUL in database', { database: 'shop\u0000options' }, /"database": contains the control character/],
    ['NUL in user', { user: 'app\u0000' }, /"user": contains/],
    ['NUL in password', { password: `${SECRET}\u0000` }, /"password": contains/],
    ['NUL in options', { options: '-c a=b\u0000x' }, /"options": contains/],
    ['NUL in a search path name', { searchPath: ['app\u0000'] }, /"searchPath": contains/],
    [
      'NUL in a driver option',
      { driverOptions: { application_name: 'x\u0000database\u0000postgres' } },
      /driverOptions\.application_name/,
    ],
    ['an unknown parameter is named', `postgres://app:${PW}@db/shop?sslmde=require`, /unknown URL parameter "sslmde"/],
    [
      'keepalives_interval is not supported by pg',
      `postgres://app:${PW}@db/shop?keepalives_interval=5`,
      /unknown URL parameter "keepalives_interval"/,
    ],
    ['a bad channel_binding', `postgres://app:${PW}@db/shop?channel_binding=always`, /"channel_binding": "always"/],
    ['a bad keepalives', `postgres://app:${PW}@db/shop?keepalives=2`, /"keepalives": "2"/],
    [
      'a missing sslrootcert file',
      `postgres://app:${PW}@db/shop?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem`,
      /"sslrootcert": "\/nonexistent\/ca.pem"; expected a readable certificate file \(ENOENT\)/,
    ],
    [
      'certificate files with sslmode=disable',
      `postgres://app:${PW}@db/shop?sslmode=disable&sslrootcert=system`,
      /need an encrypting sslmode/,
    ],
    ['statementTimeoutMs above 2^31-1', { statementTimeoutMs: 2 ** 31 }, /"statementTimeoutMs": 2147483648/],
    ['connectTimeoutMs above 2^31-1', { connectTimeoutMs: 2 ** 31 }, /"connectTimeoutMs": 2147483648/],
    ['keepAliveIdleMs above 2^31-1', { keepAliveIdleMs: 2 ** 31 }, /"keepAliveIdleMs": 2147483648/],
    [
      'channelBinding as a string',
      { channelBinding: 'require' },
      /"channelBinding": "require"; expected true or false/,
    ],
    ['a password of the wrong type', { password: 1234 }, /"password": a value of type number/],
    ['ssl as an unknown word', { ssl: 'always' }, /"ssl": "always"/],
  ];

  it.each(cases)('%s', (_what, input, message) => {
    let error: unknown;
    try {
      postgres((typeof input === 'string' ? input : { host: 'db', password: SECRET, ...(input as object) }) as never);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(message);
    expect(findSecret(SECRET, error)).toBeUndefined();
  });
});

describe('no password in any public object', () => {
  const inputs: [string, () => Parameters<typeof postgres>[0]][] = [
    ['a URL', () => `postgres://app:${PW}@db:5432/shop?sslmode=disable`],
    ['a config object', () => ({ host: 'db', user: 'app', password: SECRET, database: 'shop' })],
    ['a config object with a URL', () => ({ url: `postgres://app:${PW}@db/shop`, port: 6432 })],
  ];

  it.each(inputs)('postgres(%s): console.log, util.inspect, JSON.stringify, description, factory', (_what, input) => {
    const adapter = postgres(input());
    const sf = createSessionFactory(adapter);
    expect(adapter.workerSpec).toBeDefined();
    expect(findSecret(SECRET, adapter, adapter.description, adapter.workerSpec, sf, sf.description)).toBeUndefined();
    expect(inspect(adapter)).toContain('***');
    void sf.close();
  });

  it('the worker still rebuilds the adapter with the real password', () => {
    const adapter = postgres({ host: 'db', user: 'app', password: SECRET });
    const [config] = structuredClone(adapter.workerSpec?.args) as [{ password: string }];
    expect(config.password).toBe(SECRET);
    expect(resolvePostgresConfig(config).clientConfig.password).toBe(SECRET);
  });
});
