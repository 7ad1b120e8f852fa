import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSessionFactory } from '@sessionfactory/core';
import { postgres } from '@sessionfactory/pg';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Builds the example, then runs `node dist/main.js` as `pnpm demo` does (from apps/example).
const appDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'ledger-main-'));

function runMain(databaseUrl: string, replicaUrls?: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: databaseUrl };
  if (replicaUrls === undefined) delete env.DATABASE_REPLICA_URLS;
  else env.DATABASE_REPLICA_URLS = replicaUrls;
  delete env.LEDGER_ECHO;
  // as a user runs it: the workspace's node shim sets NODE_PATH, which would let the app
  // import packages it does not declare
  delete env.NODE_PATH;
  return spawnSync(process.execPath, ['dist/main.js'], { cwd: appDir, env, encoding: 'utf8', timeout: 60_000 });
}

beforeAll(() => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const build = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: appDir, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build failed:\n${build.stdout}${build.stderr}`);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dist/main.js', () => {
  it('runs every step on SQLite and exits 0', () => {
    const run = runMain(`sqlite:${join(dir, 'ledger.db')}`);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const out = run.stdout;
    for (const step of [
      '1. Open the session factory',
      '2. 20 concurrent transfers',
      '3. An overdraft',
      '4. A duplicate account',
      '5. A savepoint',
      '6. Hooks',
      '7. A synchronous report',
      '8. Read replicas (DATABASE_REPLICA_URLS)',
      '9. Pool stats, then close()',
    ]) {
      expect(out).toContain(step);
    }
    expect(out).toContain(`Database: sqlite at ${join(dir, 'ledger.db')}`);
    expect(out).toContain('SQLite: the pool has one connection, so the sessions queued');
    expect(out).toContain('Raised: CheckViolationError');
    expect(out).toContain('Raised: UniqueViolationError');
    expect(out).toMatch(/receipt: transfer #\d+, alice -> bob, 7 \(session s\d+ committed\)/);
    expect(out).toMatch(/no receipt: transfer #\d+ was rolled back/);
    expect(out).toMatch(/^ {3}total\s+300$/m);
    expect(out).not.toMatch(/^ {3}FAIL/m);
    expect(out).toMatch(/\n\d+ checks passed, 0 failed\n$/);
  });

  it('reruns on the same database (old tables dropped first)', () => {
    const run = runMain(`sqlite:${join(dir, 'ledger.db')}`);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/\d+ checks passed, 0 failed/);
  });

  it('DATABASE_URL= (empty) counts as unset: runs on the default SQLite file', () => {
    const run = runMain('');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`Database: sqlite at ${join(tmpdir(), 'sessionfactory-ledger.db')}`);
  });

  it('exits non-zero and says why when the database cannot be opened', () => {
    const run = runMain('nosuchdb://somewhere/ledger');
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('FAIL  the database answers');
    expect(run.stdout).toContain('ConfigurationError');
    expect(run.stdout).toContain('0 checks passed, 1 failed');
  });

  // The streaming replica of scripts/pg-replica.sh (started by .ci/run); required under CI.
  const replicaUrl = process.env.PG_REPLICA_URL;
  if (!replicaUrl && (process.env.CI !== undefined || process.env.PG_REPLICA_REQUIRED !== undefined)) {
    throw new Error('PG_REPLICA_URL is not set: start the replica with scripts/pg-replica.sh start');
  }
  it.skipIf(!replicaUrl)(
    'on Postgres with DATABASE_REPLICA_URLS: reads routed to the replica, read-your-writes',
    async () => {
      const schema = `ledger_${randomBytes(4).toString('hex')}`;
      const admin = createSessionFactory(postgres('postgres://postgres@127.0.0.1:5432/test'));
      try {
        await sql`create schema ${sql.id(schema)}`.execute(admin.db);
        const inSchema = (url: string) => `${url}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
        const run = runMain(inSchema('postgres://postgres@127.0.0.1:5432/test'), inSchema(replicaUrl!));
        expect(run.stderr).toBe('');
        expect(run.stdout).toContain('8. Read replicas (DATABASE_REPLICA_URLS)');
        expect(run.stdout).toMatch(/the next read ran on replica:0 and saw \d+ transfers/);
        expect(run.stdout).toContain('PASS  every read right after a write saw that write (read-your-writes)');
        expect(run.stdout).toMatch(/\n\d+ checks passed, 0 failed\n$/);
        expect(run.status).toBe(0);
      } finally {
        await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(admin.db);
        await admin.close();
      }
    },
  );
});
