import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConformanceTarget } from '@sessionfactory/conformance';
import { createSessionFactory } from '@sessionfactory/core';
import { sqlite } from '../src/index.js';

/**
 * A conformance target on a fresh SQLite database: a file in a new temp dir, or `:memory:`
 * (each factory then has its own private database).
 *
 * @example
 * ```ts
 * describeConformance('sqlite file', () => sqliteConformanceTarget('file'));
 * ```
 */
export async function sqliteConformanceTarget(kind: 'file' | 'memory'): Promise<ConformanceTarget> {
  const dir = await mkdtemp(join(tmpdir(), 'sf-conf-sqlite-'));
  const filename = kind === 'file' ? join(dir, 'conformance.sqlite') : ':memory:';
  return {
    createFactory: (options) => createSessionFactory(sqlite(filename), options),
    teardown: () => rm(dir, { recursive: true, force: true }),
    dialect: {
      setLockTimeoutSql: (ms) => `PRAGMA busy_timeout = ${Math.ceil(ms)}`,
    },
    failingFactories: {
      databaseNotFound: () =>
        createSessionFactory(sqlite({ filename: join(dir, 'missing.sqlite'), fileMustExist: true })),
      unreachable: () => createSessionFactory(sqlite(join(dir, 'no-such-directory', 'db.sqlite'))),
    },
  };
}
