import { ConfigurationError } from '@sessionfactory/core';
import { findSecret } from '@sessionfactory/core/testing';
import { describe, expect, it } from 'vitest';
import { sqlite } from '../src/index.js';
import { resolveSqliteConfig } from '../src/resolve-sqlite-config.js';
import type { SqliteConfig } from '../src/sqlite-config.js';

describe('resolveSqliteConfig: inputs', () => {
  it('applies the defaults to a file database', () => {
    expect(resolveSqliteConfig('app.db')).toEqual({
      filename: 'app.db',
      memory: false,
      wal: true,
      busyTimeoutMs: 5000,
      foreignKeys: true,
      readonly: false,
      fileMustExist: false,
      pragmaStatements: [],
      nativeBinding: undefined,
    });
  });

  it('does not turn on WAL for an in-memory database', () => {
    expect(resolveSqliteConfig(':memory:')).toMatchObject({ filename: ':memory:', memory: true, wal: false });
  });

  it.each([
    ['sqlite::memory:', ':memory:'],
    ['file::memory:', ':memory:'],
    ['sqlite://:memory:', ':memory:'],
    ['sqlite:///abs/path.db', '/abs/path.db'],
    ['sqlite:/abs/path.db', '/abs/path.db'],
    ['sqlite:relative.db', 'relative.db'],
    ['sqlite:data/relative.db', 'data/relative.db'],
    ['file:relative.db', 'relative.db'],
    ['file:///abs.db', '/abs.db'],
    ['file://localhost/abs.db', '/abs.db'],
    ['sqlite:my%20app.db', 'my app.db'],
    ['sqlite:///srv/my%20app.db', '/srv/my app.db'],
    ['SQLITE:upper.db', 'upper.db'],
    ['plain/relative.db', 'plain/relative.db'],
    ['C:\\data\\app.db', 'C:\\data\\app.db'],
  ])('reads %s as filename %s', (input, filename) => {
    expect(resolveSqliteConfig(input).filename).toBe(filename);
    expect(sqlite(input).description).toBe(filename);
  });

  it('accepts a URL as the filename of a config object', () => {
    expect(resolveSqliteConfig({ filename: 'sqlite:///srv/app.db' }).filename).toBe('/srv/app.db');
  });

  it('reads options from URL query parameters', () => {
    expect(resolveSqliteConfig('sqlite:app.db?busyTimeoutMs=250&foreignKeys=false&wal=0')).toMatchObject({
      filename: 'app.db',
      busyTimeoutMs: 250,
      foreignKeys: false,
      wal: false,
    });
    expect(resolveSqliteConfig('file:app.db?mode=ro')).toMatchObject({ readonly: true, wal: false });
    expect(resolveSqliteConfig('file:app.db?mode=rw')).toMatchObject({ fileMustExist: true, readonly: false });
    expect(resolveSqliteConfig('file:app.db?mode=rwc')).toMatchObject({ fileMustExist: false, readonly: false });
    expect(resolveSqliteConfig('sqlite:app.db?readonly=true&fileMustExist=1')).toMatchObject({
      readonly: true,
      fileMustExist: true,
    });
  });

  it('lets explicit options win over URL parameters', () => {
    const config = resolveSqliteConfig({ filename: 'sqlite:app.db?busyTimeoutMs=250', busyTimeoutMs: 10 });
    expect(config.busyTimeoutMs).toBe(10);
  });

  it('treats options set to undefined as not set', () => {
    expect(
      resolveSqliteConfig({ filename: 'sqlite:app.db?busyTimeoutMs=250', busyTimeoutMs: undefined }),
    ).toMatchObject({
      busyTimeoutMs: 250,
    });
  });

  it('takes explicit values for every option', () => {
    const config = resolveSqliteConfig({
      filename: 'app.db',
      wal: false,
      busyTimeoutMs: 0,
      foreignKeys: false,
      fileMustExist: true,
      nativeBinding: '/opt/better_sqlite3.node',
    });
    expect(config).toMatchObject({
      wal: false,
      busyTimeoutMs: 0,
      foreignKeys: false,
      fileMustExist: true,
      nativeBinding: '/opt/better_sqlite3.node',
    });
  });

  it('builds pragma statements, quoting any value that is not a number or keyword', () => {
    const config = resolveSqliteConfig({
      filename: 'app.db',
      pragmas: {
        synchronous: 'NORMAL',
        cache_size: -64000,
        mmap_size: '268435456',
        recursive_triggers: true,
        trusted_schema: false,
        'main.application_id': 42,
        temp_store_directory: "/tmp/it's; DROP TABLE x",
      },
    });
    expect(config.pragmaStatements).toEqual([
      'PRAGMA synchronous = NORMAL',
      'PRAGMA cache_size = -64000',
      'PRAGMA mmap_size = 268435456',
      'PRAGMA recursive_triggers = ON',
      'PRAGMA trusted_schema = OFF',
      'PRAGMA main.application_id = 42',
      "PRAGMA temp_store_directory = '/tmp/it''s; DROP TABLE x'",
    ]);
  });
});

describe('sqlite(): ConfigurationError', () => {
  // Each case: the input, then fragments the message must contain (option, value, what is allowed).
  const cases: readonly [string, unknown, readonly string[]][] = [
    ['a number', 42, ['filenameOrConfig', '42', 'a filename']],
    ['null', null, ['filenameOrConfig', 'null']],
    ['an array', ['app.db'], ['filenameOrConfig', 'an array']],
    ['an unknown option', { filename: 'a.db', readOnly: true }, ['"readOnly"', 'readonly', 'busyTimeoutMs']],
    ['a missing filename', {}, ['filename', 'undefined', "':memory:'"]],
    ['an empty filename', '', ['filename', '""', 'non-empty']],
    ['a blank filename', '   ', ['filename', '"   "']],
    ['a non-string filename', { filename: 7 }, ['filename', '7']],
    ['a URL of another database', 'postgres://app:s3cret@db/app', ['filename', 'postgres:', 'app:***@db', 'sqlite:']],
    ['a URL with a host', 'sqlite://dbhost/app.db', ['sqlite://dbhost/app.db', 'no host', 'sqlite:///']],
    ['a URL naming no file', 'sqlite:', ['"sqlite:"', 'names no database file']],
    ['a URL with only a query', 'sqlite:?wal=true', ['names no database file']],
    ['a URL with a fragment', 'sqlite:app.db#x', ['fragment']],
    ['a malformed percent-escape', 'sqlite:%zz.db', ['%zz', 'percent-escape']],
    ['an unknown URL parameter', 'sqlite:app.db?cache=shared', ['URL parameter', '"cache"', 'mode', 'wal']],
    ['a bad URL mode', 'file:app.db?mode=memory', ['mode', '"memory"', 'ro, rw or rwc']],
    ['a bad URL boolean', 'sqlite:app.db?wal=yes', ['wal', '"yes"', 'true, false, 1 or 0']],
    ['a bad URL integer', 'sqlite:app.db?busyTimeoutMs=-5', ['busyTimeoutMs', '"-5"', 'non-negative integer']],
    ['a non-boolean wal', { filename: 'a.db', wal: 'yes' }, ['wal', '"yes"', 'true or false']],
    ['a non-boolean foreignKeys', { filename: 'a.db', foreignKeys: 1 }, ['foreignKeys', '1', 'true or false']],
    ['a non-boolean readonly', { filename: 'a.db', readonly: 'no' }, ['readonly', '"no"']],
    ['a non-boolean fileMustExist', { filename: 'a.db', fileMustExist: null }, ['fileMustExist', 'null']],
    ['readonly in memory', { filename: ':memory:', readonly: true }, ['readonly', 'true', "':memory:'"]],
    ['fileMustExist in memory', { filename: ':memory:', fileMustExist: true }, ['fileMustExist', "':memory:'"]],
    ['WAL in memory', { filename: 'sqlite::memory:', wal: true }, ['wal', "':memory:'"]],
    ['WAL on a read-only connection', { filename: 'a.db', readonly: true, wal: true }, ['wal', 'read-only']],
    ['a negative busy timeout', { filename: 'a.db', busyTimeoutMs: -1 }, ['busyTimeoutMs', '-1', '0 to 2147483647']],
    ['a fractional busy timeout', { filename: 'a.db', busyTimeoutMs: 1.5 }, ['busyTimeoutMs', '1.5']],
    ['a huge busy timeout', { filename: 'a.db', busyTimeoutMs: 2 ** 31 }, ['busyTimeoutMs', '2147483648']],
    ['a string busy timeout', { filename: 'a.db', busyTimeoutMs: '100' }, ['busyTimeoutMs', '"100"']],
    ['pragmas that are not an object', { filename: 'a.db', pragmas: 'wal' }, ['pragmas', '"wal"', 'an object']],
    [
      'a pragma name that is not an identifier',
      { filename: 'a.db', pragmas: { 'x; DROP': 1 } },
      ['pragmas', 'x; DROP'],
    ],
    [
      'a pragma value that is an object',
      { filename: 'a.db', pragmas: { cache_size: {} } },
      ['pragmas.cache_size', 'an object'],
    ],
    ['a pragma value that is empty', { filename: 'a.db', pragmas: { cache_size: '' } }, ['pragmas.cache_size', '""']],
    ['a pragma value that is NaN', { filename: 'a.db', pragmas: { cache_size: Number.NaN } }, ['NaN', 'finite']],
    ['an empty nativeBinding', { filename: 'a.db', nativeBinding: '' }, ['nativeBinding', '""', '.node']],
    ['a non-string nativeBinding', { filename: 'a.db', nativeBinding: {} }, ['nativeBinding', 'an object']],
    ['a NUL in a filename (SQLite would open a truncated path)', 'a\u0000b.db', ['control character U+0000']],
    ['a NUL in a config filename', { filename: 'data/a\u0000.db' }, ['control character U+0000']],
    ['a percent-encoded NUL in a URL', 'sqlite:a%00b.db', ['control character U+0000']],
    ['a newline in a file: URL', 'file:a%0Ab.db', ['control character U+000A']],
  ];

  it.each(cases)('rejects %s', (_name, input, fragments) => {
    const attempt = () => sqlite(input as SqliteConfig);
    expect(attempt).toThrow(ConfigurationError);
    const message = messageOf(attempt);
    for (const fragment of fragments) expect(message).toContain(fragment);
  });

  it('never shows the password of a misplaced server URL', () => {
    const message = messageOf(() => sqlite('mysql://root:hunter2@localhost/app'));
    expect(message).not.toContain('hunter2');
  });

  it.each([
    'postgres://app:Zq9kX%2FWm4pL%20Tr7vB%40Hn2cD%25Jy5fG@db/app',
    'mysql://app:Zq9kX/Wm4pL Tr7vB@Hn2cD%Jy5fG@db/app',
  ])('never shows a password with / space @ %% of a misplaced server URL: %s', (url) => {
    let error: unknown;
    try {
      sqlite(url);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(findSecret('Zq9kX/Wm4pL Tr7vB@Hn2cD%Jy5fG', error)).toBeUndefined();
  });
});

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a throw');
}
