// openSessionFactory picks the adapter package by URL scheme. In this workspace every adapter
// package resolves, so "not installed" is simulated by making the import fail the way Node does;
// the real loader (importPackage) is tested on its own below with packages in a temp folder.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Adapter, ConfigurationError, ConnectionError, openSessionFactory } from '../src/index.js';
import { type FakeAdapter, fakeAdapter } from '../src/testing/index.js';
import { importPackage } from '../src/util/import-package.js';
import { BEGIN, COMMIT, rejection } from './support/harness.js';

vi.mock('../src/util/import-package.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../src/util/import-package.js')>();
  return { importPackage: vi.fn(actual.importPackage) };
});

const imported = vi.mocked(importPackage);
let adapters: FakeAdapter[] = [];

function notFound(name: string): Error {
  return Object.assign(new Error(`Cannot find package '${name}' imported from /app/index.js`), {
    code: 'ERR_MODULE_NOT_FOUND',
  });
}

/** Makes every adapter package "installed", exporting a factory of fake adapters. */
function installFakePackages(): ReturnType<typeof vi.fn> {
  const make = vi.fn((_url: string): Adapter => {
    const adapter = fakeAdapter();
    adapters.push(adapter);
    return adapter;
  });
  imported.mockImplementation(async () => ({ postgres: make, mysql: make, sqlite: make }));
  return make;
}

beforeEach(() => {
  vi.stubEnv('DATABASE_URL', '');
});

afterEach(() => {
  vi.unstubAllEnvs();
  imported.mockReset();
  for (const adapter of adapters) adapter.dispose();
  adapters = [];
});

describe('openSessionFactory configuration errors', () => {
  it('no URL and no DATABASE_URL says to set DATABASE_URL', async () => {
    const error = await rejection(openSessionFactory());
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toMatch(/DATABASE_URL/);
    expect(imported).not.toHaveBeenCalled();
  });

  it('an unknown scheme lists the known ones and shows only the scheme', async () => {
    const error = await rejection(openSessionFactory('oracle://scott:tiger@db/orcl'));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toContain('scheme "oracle:"');
    expect(error.message).not.toContain('tiger');
    expect(error.message).toContain('Known schemes: postgres:, postgresql:, mysql:, mariadb:, sqlite:, file:');
    expect(imported).not.toHaveBeenCalled();
  });

  it('a URL without a scheme is an unknown scheme too', async () => {
    await expect(openSessionFactory('localhost/app')).rejects.toThrow(/Unknown database URL scheme/);
  });

  it.each([
    ['postgres://app:s3cret@db/app', '@sessionfactory/pg'],
    ['postgresql://app:s3cret@db/app', '@sessionfactory/pg'],
    ['mysql://app:s3cret@db/app', '@sessionfactory/mysql'],
    ['mariadb://app:s3cret@db/app', '@sessionfactory/mysql'],
    ['sqlite:app.db', '@sessionfactory/sqlite'],
    ['file:app.db', '@sessionfactory/sqlite'],
    [':memory:', '@sessionfactory/sqlite'],
  ])('%s without its adapter package names %s', async (url, pkg) => {
    imported.mockImplementation(async (name) => {
      throw notFound(name);
    });
    const error = await rejection(openSessionFactory(url));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(imported).toHaveBeenCalledWith(pkg);
    expect(error.message).toContain(`npm i ${pkg}`);
    expect(error.message).not.toContain('s3cret');
    expect(error.cause).toMatchObject({ code: 'ERR_MODULE_NOT_FOUND' });
  });

  it('an adapter package that is installed but fails to load reports the real cause, not "not installed"', async () => {
    const broken = new Error('@sessionfactory/pg needs Node.js >= 22.12; this is 20.0.0');
    imported.mockRejectedValue(broken);
    const error = await rejection(openSessionFactory('postgres://app:s3cret@db/app'));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toContain('installed but failed to load: @sessionfactory/pg needs Node.js >= 22.12');
    expect(error.message).not.toContain('not installed');
    expect(error.cause).toBe(broken);
  });

  it('a driver missing under an installed adapter is named, not reported as the adapter missing', async () => {
    imported.mockRejectedValue(
      Object.assign(
        new Error("Cannot find package 'pg' imported from /app/node_modules/@sessionfactory/pg/dist/postgres.js"),
        { code: 'ERR_MODULE_NOT_FOUND' },
      ),
    );
    const error = await rejection(openSessionFactory('postgres://db/app'));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toMatch(/failed to load: Cannot find package 'pg'/);
    expect(error.message).not.toContain('npm i @sessionfactory/pg');
  });

  it('a package without the expected export is a ConfigurationError', async () => {
    imported.mockResolvedValue({ somethingElse: () => {} });
    const error = await rejection(openSessionFactory('postgres://db/app'));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toMatch(/@sessionfactory\/pg does not export postgres\(\)/);
  });
});

describe('openSessionFactory success and ping', () => {
  it('builds the adapter from the URL, pings once, and resolves to a working factory', async () => {
    const make = installFakePackages();
    const sf = await openSessionFactory('postgres://app:s3cret@db/app', { pool: { size: 2 } });
    expect(make).toHaveBeenCalledWith('postgres://app:s3cret@db/app');
    expect(imported).toHaveBeenCalledWith('@sessionfactory/pg');
    expect(sf.stats()).toMatchObject({ created: 1, open: 1, inUse: 0 });
    await sf.session(async () => {});
    expect(adapters[0]!.statements).toEqual([BEGIN, COMMIT]);
    await sf.close();
  });

  it('DATABASE_URL= (empty) counts as unset: says to set DATABASE_URL', async () => {
    vi.stubEnv('DATABASE_URL', '');
    const error = await rejection(openSessionFactory());
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toMatch(/No database URL.*set DATABASE_URL/);
  });

  it('an empty URL counts as not given: DATABASE_URL is used', async () => {
    installFakePackages();
    vi.stubEnv('DATABASE_URL', 'mysql://app@db/shop');
    const sf = await openSessionFactory('');
    expect(imported).toHaveBeenCalledWith('@sessionfactory/mysql');
    await sf.close();
  });

  it('adapterModules: the handed module is used and no package is imported (bundled apps)', async () => {
    const made: FakeAdapter[] = [];
    const pg = {
      postgres: vi.fn((_url: string): Adapter => {
        const adapter = fakeAdapter();
        made.push(adapter);
        adapters.push(adapter);
        return adapter;
      }),
    };
    const sf = await openSessionFactory('postgres://app@db/shop', { adapterModules: [{ sqlite: vi.fn() }, pg] });
    expect(pg.postgres).toHaveBeenCalledWith('postgres://app@db/shop');
    expect(imported).not.toHaveBeenCalled();
    await sf.session(async () => {});
    expect(made[0]!.statements).toEqual([BEGIN, COMMIT]);
    await sf.close();
  });

  it('without adapterModules, a package that cannot be imported says how to hand it over', async () => {
    imported.mockImplementation(async (name: string) => {
      throw notFound(name);
    });
    const error = await rejection(openSessionFactory('mysql://app@db/shop', { adapterModules: [{ sqlite: vi.fn() }] }));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toContain('npm i @sessionfactory/mysql');
    expect(error.message).toContain('adapterModules');
  });

  it('uses DATABASE_URL when no URL is given', async () => {
    installFakePackages();
    vi.stubEnv('DATABASE_URL', 'mysql://app@db/shop');
    const sf = await openSessionFactory();
    expect(imported).toHaveBeenCalledWith('@sessionfactory/mysql');
    await sf.close();
  });

  it('a failing ping rejects with the typed error and closes the factory it made', async () => {
    const close = vi.fn(async () => {});
    imported.mockImplementation(async () => ({
      postgres: () => {
        const adapter = fakeAdapter();
        adapters.push(adapter);
        adapter.fail({ match: 'CONNECT', error: 'CONNECTION' });
        return { ...adapter, close };
      },
    }));
    const error = await rejection(openSessionFactory('postgres://db/app'));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(close).toHaveBeenCalledTimes(1);
  });

  it('rejects bad factory options with ConfigurationError', async () => {
    installFakePackages();
    await expect(openSessionFactory('postgres://db/app', { pool: { size: -1 } })).rejects.toThrow(ConfigurationError);
  });
});

describe('importPackage', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sf-import-'));
    const pkg = join(dir, 'node_modules', '@sessionfactory-test', 'adapter');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{"name":"app","type":"module"}');
    writeFileSync(
      join(pkg, 'package.json'),
      '{"name":"@sessionfactory-test/adapter","type":"module","exports":{".":"./index.js"}}',
    );
    writeFileSync(join(pkg, 'index.js'), 'export const marker = "loaded from the application folder";');
  });

  afterEach(() => {
    vi.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  it('falls back to the application folder (process.cwd()) when core cannot see the package', async () => {
    const { importPackage: real } = await vi.importActual<typeof import('../src/util/import-package.js')>(
      '../src/util/import-package.js',
    );
    await expect(real('@sessionfactory-test/adapter')).rejects.toMatchObject({ code: 'ERR_MODULE_NOT_FOUND' });
    vi.spyOn(process, 'cwd').mockReturnValue(dir);
    const module = await real('@sessionfactory-test/adapter');
    expect(module.marker).toBe('loaded from the application folder');
  });
});
