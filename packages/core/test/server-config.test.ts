import { describe, expect, it } from 'vitest';
import {
  parseBooleanParameter,
  parseWholeNumberParameter,
  type ResolvedServerConfig,
  resolveServerConfig,
  type ServerConfigSpec,
  type ServerConnectionConfig,
} from '../src/adapter/index.js';
import { ConfigurationError } from '../src/index.js';

const SECRET = 'pa55-w0rd';

/** A made-up adapter's config: the shared fields plus two of its own. */
interface AcmeConfig extends ServerConnectionConfig<{ readonly ca?: string }, { readonly keepAlive?: boolean }> {
  readonly schema?: string | undefined;
  readonly retries?: number | undefined;
}

const SPEC: ServerConfigSpec<AcmeConfig> = {
  dialect: 'acme',
  schemes: ['acme', 'acmedb'],
  options: ['schema', 'retries'],
  urlParameters: ['tls', 'schema', 'timeout', 'socket'],
  readUrlParameters: (params) => ({
    ...(params.socket === undefined ? {} : { host: params.socket }),
    ssl: params.tls === undefined ? undefined : parseBooleanParameter('acme', 'tls', params.tls),
    schema: params.schema,
    connectTimeoutMs:
      params.timeout === undefined
        ? undefined
        : parseWholeNumberParameter('acme', 'timeout', params.timeout, 'seconds') * 1000,
  }),
  driverOptions: {
    expected: 'an object of acme driver options',
    reserved: { uri: 'url', connectTimeout: 'connectTimeoutMs' },
  },
};

/** The same adapter with defaults, a required user and a connect timeout of at least 1 ms. */
const STRICT_SPEC: ServerConfigSpec<AcmeConfig> = {
  ...SPEC,
  defaults: { host: 'localhost', port: 7000, connectTimeoutMs: 10_000 },
  required: ['user'],
  minConnectTimeoutMs: 1,
};

const NO_SERVER = {
  host: undefined,
  port: undefined,
  user: undefined,
  password: undefined,
  database: undefined,
  ssl: undefined,
  connectTimeoutMs: undefined,
};

describe('resolveServerConfig: accepted input', () => {
  const cases: readonly {
    readonly name: string;
    readonly input: unknown;
    readonly spec?: ServerConfigSpec<AcmeConfig>;
    readonly expected: Partial<ResolvedServerConfig<AcmeConfig>>;
  }[] = [
    {
      name: 'every part of a URL, decoded, and its parameters',
      input: `acme://a%40b:${SECRET}@db.example:6000/my%20db?tls=1&schema=app&timeout=5`,
      expected: {
        server: {
          host: 'db.example',
          port: 6000,
          user: 'a@b',
          password: SECRET,
          database: 'my db',
          ssl: true,
          connectTimeoutMs: 5000,
        },
        options: { schema: 'app', retries: undefined },
        driverOptions: undefined,
        description: 'acme://a%40b:***@db.example:6000/my%20db?tls=1&schema=app&timeout=5',
      },
    },
    {
      name: 'a URL with nothing but a host: every other part unset, no defaults',
      input: 'acme://db',
      expected: { server: { ...NO_SERVER, host: 'db' }, description: 'acme://db' },
    },
    {
      name: 'an IPv6 host without its brackets',
      input: 'acme://[::1]:6000/x',
      expected: { server: { ...NO_SERVER, host: '::1', port: 6000, database: 'x' } },
    },
    {
      name: 'a config object without a URL, described from its fields',
      input: { host: '::1', port: 6001, user: 'app', password: SECRET, database: 'shop', ssl: { ca: 'PEM' } },
      expected: {
        server: {
          host: '::1',
          port: 6001,
          user: 'app',
          password: SECRET,
          database: 'shop',
          ssl: { ca: 'PEM' },
          connectTimeoutMs: undefined,
        },
        description: 'acme://app:***@[::1]:6001/shop',
      },
    },
    {
      name: 'config fields over the URL, the real target described, the URL scheme kept',
      input: { url: `acmedb://app:${SECRET}@old:6000/shop?tls=true&schema=a`, host: 'new', ssl: false, schema: 'b' },
      expected: {
        server: {
          host: 'new',
          port: 6000,
          user: 'app',
          password: SECRET,
          database: 'shop',
          ssl: false,
          connectTimeoutMs: undefined,
        },
        options: { schema: 'b', retries: undefined },
        description: 'acmedb://app:***@new:6000/shop',
      },
    },
    {
      name: 'non-target fields over the URL, which is then described as given',
      input: { url: `acme://app:${SECRET}@db/shop`, ssl: true, connectTimeoutMs: 0, retries: 3 },
      expected: {
        server: {
          ...NO_SERVER,
          host: 'db',
          user: 'app',
          password: SECRET,
          database: 'shop',
          ssl: true,
          connectTimeoutMs: 0,
        },
        options: { schema: undefined, retries: 3 },
        description: 'acme://app:***@db/shop',
      },
    },
    {
      name: 'undefined config fields, which do not override the URL',
      input: { url: 'acme://app@db:6000/shop', host: undefined, port: undefined },
      expected: {
        server: { ...NO_SERVER, host: 'db', port: 6000, user: 'app', database: 'shop' },
        description: 'acme://app@db:6000/shop',
      },
    },
    {
      name: 'a URL parameter that overrides a part of the URL (a socket directory for the host)',
      input: 'acme://app@localhost/shop?socket=/run/acme',
      expected: {
        server: { ...NO_SERVER, host: '/run/acme', user: 'app', database: 'shop' },
        description: 'acme://app@localhost/shop?socket=/run/acme',
      },
    },
    {
      name: 'a socket directory in a config, described in the host parameter',
      input: { host: '/run/acme', user: 'app' },
      expected: { description: 'acme://app@/?host=/run/acme' },
    },
    {
      name: 'an empty password, which means none',
      input: { host: 'db', user: 'app', password: '' },
      expected: { server: { ...NO_SERVER, host: 'db', user: 'app' }, description: 'acme://app@db/' },
    },
    {
      name: 'driverOptions passed through as given',
      input: { host: 'db', driverOptions: { keepAlive: true } },
      expected: { driverOptions: { keepAlive: true } },
    },
    {
      name: 'defaults for host, port and connect timeout, shown in the description',
      input: { user: 'app' },
      spec: STRICT_SPEC,
      expected: {
        server: { ...NO_SERVER, host: 'localhost', port: 7000, user: 'app', connectTimeoutMs: 10_000 },
        description: 'acme://app@localhost:7000/',
      },
    },
    {
      name: 'a required part given in the URL',
      input: 'acme://app@db',
      spec: STRICT_SPEC,
      expected: { server: { ...NO_SERVER, host: 'db', port: 7000, user: 'app', connectTimeoutMs: 10_000 } },
    },
  ];

  it.each(cases)('takes $name', ({ input, spec, expected }) => {
    const resolved = resolveServerConfig(input, spec ?? SPEC);
    expect(resolved).toMatchObject(expected);
    if (expected.server !== undefined) expect(resolved.server).toStrictEqual(expected.server);
  });

  it('does not copy an ssl object or driverOptions', () => {
    const ssl = { ca: 'PEM' };
    const driverOptions = { keepAlive: true };
    const resolved = resolveServerConfig({ host: 'db', ssl, driverOptions }, SPEC);
    expect(resolved.server.ssl).toBe(ssl);
    expect(resolved.driverOptions).toBe(driverOptions);
  });
});

describe('resolveServerConfig: rejected input', () => {
  const cases: readonly {
    readonly name: string;
    readonly input: unknown;
    readonly spec?: ServerConfigSpec<AcmeConfig>;
    readonly message: RegExp;
  }[] = [
    { name: 'a number', input: 42, message: /^acme: expected a acme:\/\/ URL or a config object, got number$/ },
    { name: 'null', input: null, message: /got null$/ },
    { name: 'an array', input: [`acme://app:${SECRET}@db`], message: /got an array$/ },
    { name: 'a class instance', input: new Date(), message: /got object$/ },
    {
      name: 'an unknown option, listing the known ones in order',
      input: { hostname: 'db' },
      message:
        /^acme: unknown option "hostname"; known options: url, host, port, user, password, database, ssl, schema, retries, connectTimeoutMs, driverOptions$/,
    },
    {
      name: 'a url that is not a string',
      input: { url: 5 },
      message:
        /invalid option "url": 5; expected a non-empty string such as acme:\/\/user:password@host:port\/database/,
    },
    { name: 'an empty url', input: { url: '' }, message: /invalid option "url": ""/ },
    {
      name: 'a malformed URL, not echoed',
      input: `acme://app:${SECRET}@db:port/x`,
      message: /^Invalid database URL \(not shown/,
    },
    { name: 'another scheme', input: `pg://app:${SECRET}@db/x`, message: /scheme "pg:".*use one of: acme:, acmedb:/ },
    {
      name: 'an unknown URL parameter, the URL redacted',
      input: `acme://app:${SECRET}@db/x?sslmode=require`,
      message:
        /^acme: unknown URL parameter "sslmode" in acme:\/\/app:\*\*\*@db\/x\?sslmode=require; known parameters: tls, schema, timeout, socket$/,
    },
    {
      name: 'a URL parameter when the adapter takes none',
      input: 'acme://db/x?tls=1',
      spec: { ...SPEC, urlParameters: undefined, readUrlParameters: undefined },
      message: /unknown URL parameter "tls" in acme:\/\/db\/x\?tls=1; this adapter takes none$/,
    },
    {
      name: 'a bad boolean URL parameter',
      input: 'acme://db/x?tls=maybe',
      message: /^acme: invalid URL parameter "tls": "maybe"; expected true or false$/,
    },
    {
      name: 'a bad whole-number URL parameter',
      input: 'acme://db/x?timeout=-1',
      message: /^acme: invalid URL parameter "timeout": "-1"; expected a whole number of seconds$/,
    },
    {
      name: 'port 0 in the URL',
      input: 'acme://db:0/x',
      message: /invalid option "port": 0; expected an integer from 1 to 65535/,
    },
    {
      name: 'a port too large',
      input: { port: 70000 },
      message: /invalid option "port": 70000; expected an integer from 1 to 65535$/,
    },
    { name: 'a fractional port', input: { port: 6000.5 }, message: /invalid option "port": 6000.5/ },
    {
      name: 'a port as a string',
      input: { port: '6000' },
      message: /invalid option "port": "6000"; expected an integer/,
    },
    { name: 'an empty host', input: { host: '' }, message: /invalid option "host": ""; expected a non-empty string$/ },
    {
      name: 'a user as a number',
      input: { user: 1 },
      message: /invalid option "user": 1; expected a non-empty string$/,
    },
    { name: 'an empty database', input: { database: '' }, message: /invalid option "database": ""/ },
    {
      name: 'a password as a number, shown by type only',
      input: { password: 1234 },
      message: /invalid option "password": a value of type number; expected a string$/,
    },
    { name: 'a password in an array', input: { password: [SECRET] }, message: /invalid option "password": an array/ },
    {
      name: 'ssl as a string',
      input: { ssl: 'require' },
      message: /invalid option "ssl": "require"; expected true, false, 'prefer' or an object of TLS options/,
    },
    { name: 'ssl as an array', input: { ssl: [] }, message: /invalid option "ssl": an array/ },
    {
      name: 'a negative connect timeout',
      input: { connectTimeoutMs: -1 },
      message: /invalid option "connectTimeoutMs": -1; expected an integer from 0 to 2147483647$/,
    },
    {
      name: 'a connect timeout setTimeout cannot hold',
      input: 'acme://db/x?timeout=3000000',
      message: /invalid option "connectTimeoutMs": 3000000000/,
    },
    {
      name: 'a connect timeout under the adapter minimum',
      input: { user: 'a', connectTimeoutMs: 0 },
      spec: STRICT_SPEC,
      message: /invalid option "connectTimeoutMs": 0; expected an integer from 1 to/,
    },
    { name: 'NaN as a connect timeout', input: { connectTimeoutMs: Number.NaN }, message: /"connectTimeoutMs": NaN/ },
    {
      name: 'a missing required part',
      input: 'acmedb://db/x',
      spec: STRICT_SPEC,
      message:
        /^acme: no user given; set "user" or put it in the URL \(acmedb:\/\/user:password@host:port\/database\)$/,
    },
    {
      name: 'driverOptions that are not an object',
      input: { driverOptions: 'x' },
      message: /invalid option "driverOptions": "x"; expected an object of acme driver options$/,
    },
    { name: 'driverOptions as a function', input: { driverOptions: () => 1 }, message: /"driverOptions": a function/ },
    {
      name: 'driverOptions setting a reserved key, value unseen',
      input: { driverOptions: { uri: `acme://app:${SECRET}@db` } },
      message: /^acme: invalid option "driverOptions.uri": not allowed, .*; use the url option instead$/,
    },
    {
      name: 'driverOptions setting another reserved key',
      input: { driverOptions: { connectTimeout: 5 } },
      message: /"driverOptions.connectTimeout": not allowed.*use the connectTimeoutMs option instead/,
    },
  ];

  it.each(cases)('rejects $name with a ConfigurationError that explains it', ({ input, spec, message }) => {
    let caught: unknown;
    try {
      resolveServerConfig(input, spec ?? SPEC);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigurationError);
    const text = (caught as Error).message;
    expect(text).toMatch(message);
    expect(text).not.toContain(SECRET);
    if (text.startsWith('acme:')) expect((caught as ConfigurationError).dialect).toBe('acme');
  });
});
