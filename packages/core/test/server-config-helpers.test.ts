import { EventEmitter } from 'node:events';
import { CompiledQuery } from 'kysely';
import { describe, expect, it, vi } from 'vitest';
import {
  adapterConfigError,
  cancelFromSeparateConnection,
  checkIntegerOption,
  checkStringOption,
  type DriverConnection,
  describeServer,
  invalidOption,
  invalidUrlParameter,
  isConnectionExceptionState,
  isPlainData,
  isPlainObject,
  parseBooleanParameter,
  parseWholeNumberParameter,
  resolveWorkerModule,
  type ServerTarget,
  SOCKET_ERROR_CODES,
  watchConnectionLoss,
  workerBridgeSupport,
} from '../src/adapter/index.js';
import {
  type AdapterCapabilities,
  ConfigurationError,
  findAdapterExport,
  provideAdapterModules,
} from '../src/index.js';

describe('describeServer', () => {
  const cases: readonly [string, ServerTarget, string][] = [
    [
      'everything',
      { scheme: 'pg', host: 'db', port: 5432, user: 'app', password: 'x', database: 'shop' },
      'pg://app:***@db:5432/shop',
    ],
    ['nothing but the scheme', { scheme: 'pg' }, 'pg:///'],
    ['no password', { scheme: 'pg', host: 'db', user: 'app' }, 'pg://app@db/'],
    ['a password without a user', { scheme: 'pg', host: 'db', password: 'x' }, 'pg://:***@db/'],
    ['an IPv6 host', { scheme: 'my', host: '::1', port: 3306, user: 'u' }, 'my://u@[::1]:3306/'],
    ['encoded user and database', { scheme: 'pg', host: 'h', user: 'a@b', database: 'my db' }, 'pg://a%40b@h/my%20db'],
    [
      'a socket directory',
      { scheme: 'pg', host: '/run/pg sock', user: 'app', database: 'shop' },
      'pg://app@/shop?host=/run/pg%20sock',
    ],
    ['a socket directory and no database', { scheme: 'pg', host: '/run/pg' }, 'pg:///?host=/run/pg'],
  ];
  it.each(cases)('writes %s', (_name, target, expected) => {
    expect(describeServer(target)).toBe(expected);
  });

  it('never contains the password', () => {
    expect(describeServer({ scheme: 'pg', host: 'h', user: 'u', password: 'hunter2' })).not.toContain('hunter2');
  });
});

describe('config problems and checks', () => {
  it('prefixes the dialect and carries it', () => {
    const error = adapterConfigError('acme', 'no user given');
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toBe('acme: no user given');
    expect(error.dialect).toBe('acme');
  });

  const shown: readonly [string, unknown, string][] = [
    ['a string, quoted', 'x', '"x"'],
    ['a URL string, redacted', 'acme://u:hunter2@h', '"acme://u:***@h"'],
    ['a number', 7, '7'],
    ['a boolean', false, 'false'],
    ['a bigint', 5n, '5'],
    ['null', null, 'null'],
    ['undefined', undefined, 'a value of type undefined'],
    ['an array', [1], 'an array'],
    ['an object', { a: 1 }, 'an object'],
    ['a function', () => 1, 'a function'],
  ];
  it.each(shown)('shows %s', (_name, value, text) => {
    expect(invalidOption('acme', 'x', value, 'y').message).toBe(`acme: invalid option "x": ${text}; expected y`);
  });

  it.each([
    ['password', 'hunter2'],
    ['driverOptions.password', 'hunter2'],
    ['adminPassword', 'hunter2'],
  ])('shows a value of %s by type only', (option, value) => {
    expect(invalidOption('acme', option, value, 'y').message).toBe(
      `acme: invalid option "${option}": a string; expected y`,
    );
  });

  it('words a URL parameter problem the same way', () => {
    expect(invalidUrlParameter('acme', 'tls', 'x', 'true or false').message).toBe(
      'acme: invalid URL parameter "tls": "x"; expected true or false',
    );
  });

  it('checks strings, integers and URL parameters', () => {
    expect(checkStringOption('acme', 'host', undefined)).toBeUndefined();
    expect(checkStringOption('acme', 'host', 'db')).toBe('db');
    expect(checkStringOption('acme', 'name', '', { allowEmpty: true })).toBe('');
    expect(() => checkStringOption('acme', 'name', 1, { allowEmpty: true })).toThrow(/"name": 1; expected a string$/);
    expect(checkIntegerOption('acme', 'n', undefined, 1, 2)).toBeUndefined();
    expect(checkIntegerOption('acme', 'n', 2, 1, 2)).toBe(2);
    expect(() => checkIntegerOption('acme', 'n', 3, 1, 2)).toThrow(/"n": 3; expected an integer from 1 to 2$/);
    expect([['true', '1', 'false', '0'].map((v) => parseBooleanParameter('acme', 'b', v))]).toStrictEqual([
      [true, true, false, false],
    ]);
    expect(() => parseBooleanParameter('acme', 'b', 'TRUE')).toThrow(ConfigurationError);
    expect(parseWholeNumberParameter('acme', 'n', '007', 'seconds')).toBe(7);
    for (const bad of ['', '1.5', '-1', '1e3', ' 1', '99999999999999999999']) {
      expect(() => parseWholeNumberParameter('acme', 'n', bad, 'seconds')).toThrow(
        /expected a whole number of seconds/,
      );
    }
  });

  it('tells plain objects from everything else', () => {
    expect(isPlainObject({})).toBe(true);
    expect(isPlainObject(Object.create(null))).toBe(true);
    for (const value of [null, [], new Date(), new Map(), 'x', 1]) expect(isPlainObject(value)).toBe(false);
  });
});

describe('workerBridgeSupport', () => {
  const capabilities = { sync: 'worker', readOnly: true } as unknown as AdapterCapabilities;

  it.each([
    ['a URL', 'acme://db/x'],
    ['a config with nested data and bytes', { host: 'db', ssl: { ca: new Uint8Array([1]) }, n: [1, 2n, null] }],
  ])('gives a spec carrying a copy of %s', (_name, input) => {
    const support = workerBridgeSupport({ module: '@acme/db', exportName: 'acme', input, capabilities });
    expect(support).toStrictEqual({
      capabilities,
      workerSpec: { module: '@acme/db', exportName: 'acme', args: [input] },
    });
    if (typeof input === 'object') expect(support.workerSpec?.args[0]).not.toBe(input);
  });

  it.each([
    ['a function', { driverOptions: { typeCast: () => 1 } }],
    ['a class instance', { driverOptions: { since: new Date() } }],
    ['a Map', { driverOptions: new Map() }],
  ])('turns sync off, without a spec, for a config holding %s', (_name, input) => {
    const support = workerBridgeSupport({ module: '@acme/db', exportName: 'acme', input, capabilities });
    expect(support).toStrictEqual({ capabilities: { ...capabilities, sync: false } });
    expect(isPlainData(input)).toBe(false);
  });
});

describe('cancelFromSeparateConnection', () => {
  function control(execute: () => Promise<unknown> = async () => ({ rows: [] })) {
    return {
      execute: vi.fn(execute),
      close: vi.fn(async () => {}),
    } as unknown as DriverConnection & { execute: ReturnType<typeof vi.fn>; close: ReturnType<typeof vi.fn> };
  }
  const target = (serverId: unknown) => ({ serverId }) as DriverConnection;
  const statement = (id: number) => CompiledQuery.raw(`KILL QUERY ${id}`);

  it('runs the statement for the server id on a connection of its own, then closes it', async () => {
    const own = control();
    await cancelFromSeparateConnection(target(42), { open: async () => own, statement });
    expect(own.execute).toHaveBeenCalledWith(CompiledQuery.raw('KILL QUERY 42'));
    expect(own.close).toHaveBeenCalledOnce();
  });

  it.each([undefined, 'abc', 0, -1, 1.5, Number.NaN, 2 ** 53])('does not connect for serverId %s', async (id) => {
    const open = vi.fn();
    await cancelFromSeparateConnection(target(id), { open, statement });
    expect(open).not.toHaveBeenCalled();
  });

  it('closes the control connection and rethrows when the statement fails', async () => {
    const own = control(async () => {
      throw new Error('denied');
    });
    await expect(cancelFromSeparateConnection(target(7), { open: async () => own, statement })).rejects.toThrow(
      'denied',
    );
    expect(own.close).toHaveBeenCalledOnce();
  });

  it('treats an "already gone" error as done', async () => {
    const own = control(async () => {
      throw Object.assign(new Error('Unknown thread id'), { errno: 1094 });
    });
    const isAlreadyGone = (error: unknown) => (error as { errno?: unknown }).errno === 1094;
    await expect(
      cancelFromSeparateConnection(target(7), { open: async () => own, statement, isAlreadyGone }),
    ).resolves.toBeUndefined();
    expect(own.close).toHaveBeenCalledOnce();
  });

  it('rethrows when the control connection cannot be opened', async () => {
    const open = async (): Promise<DriverConnection> => {
      throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
    };
    await expect(cancelFromSeparateConnection(target(7), { open, statement })).rejects.toThrow('refused');
  });
});

describe('connection loss', () => {
  it('marks a connection lost on error or end, and keeps an error from going unhandled', () => {
    for (const event of ['error', 'end'] as const) {
      const emitter = new EventEmitter();
      const onLost = vi.fn();
      watchConnectionLoss(emitter, onLost);
      // Without a listener, emitting 'error' throws.
      expect(() => emitter.emit(event, new Error('gone'))).not.toThrow();
      expect(onLost).toHaveBeenCalledOnce();
    }
  });

  it('knows Node socket codes and SQLSTATE class 08', () => {
    expect(SOCKET_ERROR_CODES.has('ECONNRESET')).toBe(true);
    expect(SOCKET_ERROR_CODES.has('ER_DUP_ENTRY')).toBe(false);
    expect(['08000', '08006', '08P01'].every(isConnectionExceptionState)).toBe(true);
    expect([undefined, 8, '', '57P01', '23505'].some(isConnectionExceptionState)).toBe(false);
  });
});

describe('resolveWorkerModule', () => {
  it("resolves a package's own name from inside it to its entry's file URL", () => {
    const from = new URL('../src/index.ts', import.meta.url).href;
    expect(resolveWorkerModule('@sessionfactory/core', from)).toBe(new URL('../dist/index.js', import.meta.url).href);
  });

  it('keeps the name when it cannot be resolved from there (a bundled application)', () => {
    expect(resolveWorkerModule('@acme/not-installed', import.meta.url)).toBe('@acme/not-installed');
  });

  it('workerBridgeSupport puts the resolved URL in the spec when given resolveFrom', () => {
    const capabilities = { sync: 'worker' } as unknown as AdapterCapabilities;
    const from = new URL('../src/index.ts', import.meta.url).href;
    const support = workerBridgeSupport({
      module: '@sessionfactory/core',
      resolveFrom: from,
      exportName: 'x',
      input: 'u',
      capabilities,
    });
    expect(support.workerSpec?.module).toBe(new URL('../dist/index.js', import.meta.url).href);
  });
});

describe('adapter modules handed over (bundled applications)', () => {
  it('findAdapterExport takes the first module exporting the function, then provided ones', () => {
    const a = { postgres: () => 'a' };
    const b = { postgres: () => 'b', mysql: () => 'b' };
    expect(findAdapterExport('postgres', [{ sqlite: 1 }, a, b])).toBe(a.postgres);
    expect(findAdapterExport('mysql', [a])).toBeUndefined();
    provideAdapterModules(b);
    expect(findAdapterExport('mysql', [a])).toBe(b.mysql);
  });
});
