// The worker bridge needs its JavaScript worker entry, so this suite runs against the
// build: `pnpm --filter @sessionfactory/core build` first.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { pathToFileURL } from 'node:url';
import { MessagePort } from 'node:worker_threads';
import { CompiledQuery } from 'kysely';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ConnectionError,
  DatabaseError,
  FactoryClosedError,
  PoolTimeoutError,
  SessionClosedError,
  TransactionTimeoutError,
  UniqueViolationError,
} from '../dist/index.js';
import { WorkerBridge, type WorkerBridgeOptions } from '../dist/sync/worker-bridge.js';

const FIXTURE = new URL('./fixtures/node-sqlite-adapter.mjs', import.meta.url).href;
const BRIDGE_URL = new URL('../dist/sync/worker-bridge.js', import.meta.url).href;

let dir: string;
let filename: string;
let logFile: string;
let bridges: WorkerBridge[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'worker-bridge-'));
  filename = join(dir, 'test.db');
  logFile = join(dir, 'log.txt');
  const db = new DatabaseSync(filename);
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE, data BLOB)');
  db.close();
  bridges = [];
});

afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(bridges.map((bridge) => bridge.close()));
  rmSync(dir, { recursive: true, force: true });
});

function bridge(options: Partial<WorkerBridgeOptions> = {}, module = FIXTURE): WorkerBridge {
  const spec = { module, exportName: 'sqliteTest', args: [{ filename, logFile }] };
  const created = new WorkerBridge(spec, { poolSize: 1, callTimeoutMs: 10_000, ...options });
  bridges.push(created);
  return created;
}

function q(sql: string, parameters: unknown[] = []): CompiledQuery {
  return CompiledQuery.raw(sql, parameters);
}

function log(): string[] {
  try {
    return readFileSync(logFile, 'utf8').trim().split('\n');
  } catch {
    return [];
  }
}

function names(): string[] {
  const db = new DatabaseSync(filename);
  try {
    return db
      .prepare('SELECT name FROM t ORDER BY id')
      .all()
      .map((row) => String(row.name));
  } finally {
    db.close();
  }
}

const PROTOCOL_TYPES = new Set(['execute', 'end', 'cancel', 'release', 'destroy', 'close']);

/** Counts the requests the main thread posts to the worker, by type. */
function spyPosts(): { type: string; [key: string]: unknown }[] {
  const posted: { type: string }[] = [];
  const original = MessagePort.prototype.postMessage;
  vi.spyOn(MessagePort.prototype, 'postMessage').mockImplementation(function (this: MessagePort, ...args) {
    const message = args[0] as { type?: unknown } | undefined;
    if (typeof message?.type === 'string' && PROTOCOL_TYPES.has(message.type)) posted.push(message as { type: string });
    return original.apply(this, args as Parameters<MessagePort['postMessage']>);
  });
  return posted as { type: string; [key: string]: unknown }[];
}

function timed<T>(fn: () => T): { value?: T; error?: unknown; ms: number } {
  const started = performance.now();
  try {
    const value = fn();
    return { value, ms: performance.now() - started };
  } catch (error) {
    return { error, ms: performance.now() - started };
  }
}

async function waitFor(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('WorkerBridge over the node:sqlite fixture', () => {
  it('commits: the row becomes visible to another connection only after COMMIT', () => {
    const b = bridge();
    const connection = b.acquire();
    connection.begin(['BEGIN']);
    const result = connection.execute(q('INSERT INTO t (name) VALUES (?)', ['ada']));
    expect(result.numAffectedRows).toBe(1n);
    expect(names()).toEqual([]);
    connection.end(['COMMIT']);
    connection.release();
    expect(names()).toEqual(['ada']);
  });

  it('rolls back and reuses the pooled connection', () => {
    const b = bridge();
    const first = b.acquire();
    first.begin(['BEGIN']);
    first.execute(q('INSERT INTO t (name) VALUES (?)', ['ada']));
    first.end(['ROLLBACK']);
    first.release();
    expect(names()).toEqual([]);

    const second = b.acquire();
    second.begin(['BEGIN']);
    expect(second.execute(q('SELECT count(*) AS n FROM t')).rows).toEqual([{ n: 0 }]);
    second.end(['COMMIT']);
    second.release();
    expect(log().filter((line) => line.startsWith('connect'))).toEqual(['connect 1']);
  });

  it('sends BEGIN together with the first statement in one round trip', () => {
    const b = bridge();
    const posted = spyPosts();
    const connection = b.acquire();
    connection.begin(['BEGIN']);
    expect(posted).toEqual([]);
    connection.execute(q('INSERT INTO t (name) VALUES (?)', ['ada']));
    expect(posted).toHaveLength(1);
    expect(posted[0]).toMatchObject({
      type: 'execute',
      begin: ['BEGIN'],
      sql: 'INSERT INTO t (name) VALUES (?)',
      parameters: ['ada'],
    });
    expect(Object.keys(posted[0]!).sort()).toEqual(['begin', 'parameters', 'seq', 'slot', 'sql', 'type']);
    connection.execute(q('INSERT INTO t (name) VALUES (?)', ['bob']));
    expect(posted[1]).toMatchObject({ type: 'execute', begin: undefined });
    connection.end(['COMMIT']);
    connection.release();
    expect(posted.map((message) => message.type)).toEqual(['execute', 'execute', 'end', 'release']);
    expect(log().filter((line) => line.startsWith('exec'))).toEqual([
      'exec 1 BEGIN',
      'exec 1 INSERT INTO t (name) VALUES (?)',
      'exec 1 INSERT INTO t (name) VALUES (?)',
      'exec 1 COMMIT',
    ]);
  });

  it('sends nothing at all for a session that ran nothing', () => {
    const b = bridge();
    const posted = spyPosts();
    const connection = b.acquire();
    connection.begin(['BEGIN']);
    connection.end(['COMMIT']);
    connection.release();
    expect(posted).toEqual([]);
    expect(b.stats()).toEqual({ open: 0, inUse: 0 });
    expect(log().some((line) => line.startsWith('connect'))).toBe(false);
  });

  it('carries typed errors across the boundary with all their fields', () => {
    const b = bridge();
    const connection = b.acquire();
    connection.begin(['BEGIN']);
    connection.execute(q('INSERT INTO t (name) VALUES (?)', ['ada']));
    let caught: unknown;
    try {
      connection.execute(q('INSERT INTO t (name) VALUES (?)', ['ada']));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UniqueViolationError);
    expect(caught).toMatchObject({
      code: 'UNIQUE_VIOLATION',
      dialect: 'sqlite-test',
      originalCode: 2067,
      originalMessage: 'UNIQUE constraint failed: t.name',
      constraint: 't.name',
      table: 't',
      column: 'name',
      retryable: false,
    });
    // the transaction is still open on the same connection: roll it back normally
    connection.end(['ROLLBACK']);
    connection.release();
    expect(names()).toEqual([]);
    expect(log()).toContain('exec 1 ROLLBACK');
  });

  it('restores Buffers on both sides of the boundary', () => {
    const b = bridge();
    const connection = b.acquire();
    connection.begin(['BEGIN']);
    connection.execute(q('INSERT INTO t (name, data) VALUES (?, ?)', ['ada', Buffer.from([1, 2, 3])]));
    const { rows } = connection.execute(q('SELECT data FROM t'));
    connection.end(['COMMIT']);
    connection.release();
    const data = (rows[0] as { data: unknown }).data;
    expect(Buffer.isBuffer(data)).toBe(true);
    expect([...(data as Buffer)]).toEqual([1, 2, 3]);
  });

  it('discards a connection whose BEGIN failed and sends no ROLLBACK', () => {
    const b = bridge();
    const posted = spyPosts();
    const connection = b.acquire();
    connection.begin(['BEGIN', 'NOT A STATEMENT']);
    expect(() => connection.execute(q('SELECT 1'))).toThrow(DatabaseError);
    connection.end(['ROLLBACK']);
    connection.release();
    expect(posted.map((message) => message.type)).toEqual(['execute', 'release']);
    expect(log()).toContain('close 1');
    expect(log()).not.toContain('exec 1 ROLLBACK');
    expect(log()).not.toContain('exec 1 SELECT 1');
  });

  it('discards a lost connection and opens a new one for the next session', () => {
    const b = bridge();
    const connection = b.acquire();
    connection.begin(['BEGIN']);
    expect(() => connection.execute(q("SELECT 'lose'"))).toThrow(ConnectionError);
    const posted = spyPosts();
    connection.end(['ROLLBACK']);
    connection.release();
    expect(posted.map((message) => message.type)).toEqual(['release']);

    const next = b.acquire();
    expect(next.execute(q('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    next.release();
    expect(log().filter((line) => /^(connect|close)/.test(line))).toEqual(['connect 1', 'close 1', 'connect 2']);
  });

  it('cancels a call that passes its deadline, rolls back, and keeps working', async () => {
    const b = bridge({ callTimeoutMs: 300 });
    await b.start(); // a cold worker must not eat the short call deadline
    const connection = b.acquire();
    connection.begin(['BEGIN']);
    connection.execute(q('INSERT INTO t (name) VALUES (?)', ['ada']));
    const { error, ms } = timed(() => connection.execute(q("SELECT 'hang'")));
    expect(error).toBeInstanceOf(TransactionTimeoutError);
    expect((error as Error).message).toMatch(/sync call exceeded callTimeoutMs \(300 ms\)/);
    expect(ms).toBeGreaterThanOrEqual(290);
    expect(ms).toBeLessThan(1000);
    // the worker owns the cleanup: end sends nothing, execute refuses
    expect(() => connection.execute(q('SELECT 1'))).toThrow(TransactionTimeoutError);
    connection.end(['ROLLBACK']);
    connection.release();

    await waitFor(() => log().includes('exec 1 ROLLBACK'));
    const lines = log();
    expect(lines.indexOf('cancel 1')).toBeGreaterThan(lines.indexOf("exec 1 SELECT 'hang'"));
    expect(lines.indexOf('exec 1 ROLLBACK')).toBeGreaterThan(lines.indexOf('cancel 1'));
    expect(names()).toEqual([]);

    // the same (pooled) connection serves the next session
    const next = b.acquire();
    next.begin(['BEGIN']);
    next.execute(q('INSERT INTO t (name) VALUES (?)', ['bob']));
    next.end(['COMMIT']);
    next.release();
    expect(names()).toEqual(['bob']);
    expect(log().filter((line) => line.startsWith('connect'))).toEqual(['connect 1']);
  });

  it('rolls back on the worker even when the timed-out call is not in progress any more', async () => {
    const b = bridge({ callTimeoutMs: 200 });
    await b.start(); // a cold worker must not eat the short call deadline
    const connection = b.acquire();
    connection.begin(['BEGIN']);
    connection.execute(q('INSERT INTO t (name) VALUES (?)', ['ada']));
    // sleep ignores cancel: it completes after the deadline, then the worker rolls back
    expect(() => connection.execute(q("SELECT 'sleep:300'"))).toThrow(TransactionTimeoutError);
    connection.release();
    await waitFor(() => log().includes('exec 1 ROLLBACK'));
    expect(names()).toEqual([]);
  });

  it('never hands a late reply to the next call', async () => {
    const b = bridge({ poolSize: 2, callTimeoutMs: 300 });
    await b.start(); // a cold worker must not eat the short call deadline
    const first = b.acquire();
    const late = timed(() => first.execute(q("SELECT 'sleep:450'", ['first'])));
    expect(late.error).toBeInstanceOf(TransactionTimeoutError);
    first.release();

    // the first call's reply arrives (at ~450 ms) while this one waits (until ~550 ms)
    const second = b.acquire();
    const { value, ms } = timed(() => second.execute(q("SELECT 'sleep:250'", ['second'])));
    expect(value?.rows).toEqual([{ slept: 250, tag: 'second' }]);
    expect(ms).toBeGreaterThanOrEqual(240);
    expect(second.execute(q('SELECT 7 AS seven')).rows).toEqual([{ seven: 7 }]);
    second.release();
  });

  it('turns a worker crash (process.exit) into a ConnectionError and starts a fresh worker', () => {
    const b = bridge();
    const connection = b.acquire();
    connection.begin(['BEGIN']);
    connection.execute(q('INSERT INTO t (name) VALUES (?)', ['ada']));
    const { error, ms } = timed(() => connection.execute(q("SELECT 'crash'")));
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as Error).message).toMatch(/exited unexpectedly \(exit code 1\)/);
    expect(ms).toBeLessThan(5000);
    // the old slot is dead but still releasable; ending it sends nothing
    expect(() => connection.execute(q('SELECT 1'))).toThrow(ConnectionError);
    connection.end(['ROLLBACK']);
    connection.release();

    const next = b.acquire();
    next.begin(['BEGIN']);
    next.execute(q('INSERT INTO t (name) VALUES (?)', ['bob']));
    next.end(['COMMIT']);
    next.release();
    expect(names()).toEqual(['bob']);
    expect(log().filter((line) => line.startsWith('worker-start'))).toHaveLength(2);
  });

  it('turns an uncaught exception in the worker into a ConnectionError', () => {
    const b = bridge();
    const connection = b.acquire();
    const { error, ms } = timed(() => connection.execute(q("SELECT 'throw'")));
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as Error).message).toMatch(/crashed: boom from the fixture/);
    expect(ms).toBeLessThan(5000);
    connection.destroy();
    const next = b.acquire();
    expect(next.execute(q('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    next.release();
  });

  it('start() warms the worker up without opening a connection', async () => {
    const b = bridge();
    await b.start();
    expect(log()).toEqual([expect.stringMatching(/^worker-start \d+$/)]);
    expect(b.stats()).toEqual({ open: 0, inUse: 0 });
    const connection = b.acquire();
    expect(connection.execute(q('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    connection.release();
    expect(log().filter((line) => line.startsWith('worker-start'))).toHaveLength(1);
  });

  it('turns a failing adapter import into a ConnectionError', async () => {
    const missing = pathToFileURL(join(dir, 'missing-adapter.mjs')).href;
    const b = bridge({}, missing);
    await expect(b.start()).rejects.toThrow(/could not load the adapter: .*missing-adapter\.mjs/);
    await expect(b.start()).rejects.toBeInstanceOf(ConnectionError);
    const connection = b.acquire();
    const { error, ms } = timed(() => connection.execute(q('SELECT 1')));
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as Error).message).toMatch(/could not load the adapter: .*missing-adapter\.mjs/);
    expect(ms).toBeLessThan(5000);
    connection.release();
  });

  it('replaces a worker whose event loop is stuck once the deadline and a grace period pass', async () => {
    const b = bridge({ callTimeoutMs: 200 });
    await b.start(); // a cold worker must not eat the short call deadline
    const connection = b.acquire();
    expect(() => connection.execute(q("SELECT 'spin'"))).toThrow(TransactionTimeoutError);
    connection.release();
    await new Promise((resolve) => setTimeout(resolve, 300));
    // the stuck worker never acknowledged the cancel: it is replaced (warmed up here so the
    // fresh thread's startup does not eat the short deadline)
    await b.start();
    const next = b.acquire();
    expect(next.execute(q('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    next.release();
    expect(log().filter((line) => line.startsWith('worker-start'))).toHaveLength(2);
  });

  it('throws PoolTimeoutError at once when every slot is in use', () => {
    const b = bridge({ poolSize: 2 });
    const first = b.acquire();
    const second = b.acquire();
    const { error, ms } = timed(() => b.acquire());
    expect(error).toBeInstanceOf(PoolTimeoutError);
    expect((error as Error).message).toMatch(/all 2 sync connections \(sync\.poolSize\) are in use/);
    expect(ms).toBeLessThan(50);
    first.release();
    first.release(); // idempotent: frees the slot once
    const third = b.acquire();
    expect(() => b.acquire()).toThrow(PoolTimeoutError);
    second.destroy();
    third.release();
    expect(() => first.execute(q('SELECT 1'))).toThrow(SessionClosedError);
  });

  it('reports the worker connections in stats()', () => {
    const b = bridge({ poolSize: 2 });
    expect(b.stats()).toEqual({ open: 0, inUse: 0 });
    const first = b.acquire();
    first.begin(['BEGIN']);
    first.execute(q('INSERT INTO t (name) VALUES (?)', ['ada']));
    expect(b.stats()).toEqual({ open: 1, inUse: 1 });
    const second = b.acquire();
    second.execute(q('SELECT 1'));
    expect(b.stats()).toEqual({ open: 2, inUse: 2 });
    first.end(['COMMIT']);
    expect(b.stats()).toEqual({ open: 2, inUse: 1 });
    first.release();
    second.destroy();
    const third = b.acquire();
    third.execute(q('SELECT 1'));
    // the destroyed connection is gone; the committed one was reused
    expect(b.stats()).toEqual({ open: 1, inUse: 1 });
    expect(log()).toContain('close 2');
    third.release();
  });

  it('close() closes the connections, ends the worker, and is idempotent', async () => {
    const b = bridge();
    const connection = b.acquire();
    connection.execute(q('SELECT 1'));
    connection.release();
    const closing = b.close();
    expect(b.close()).toBe(closing);
    await closing;
    await b.close();
    expect(log()).toContain('close 1');
    expect(log().some((line) => line.startsWith('worker-exit'))).toBe(true);
    expect(b.stats()).toEqual({ open: 0, inUse: 0 });
    expect(() => b.acquire()).toThrow(FactoryClosedError);
  });

  it('never keeps the process alive while idle (and survives an inherited --input-type)', async () => {
    const output = await runChild(
      ['--input-type=module'],
      `
      const connection = bridge.acquire();
      console.log(JSON.stringify(connection.execute(CompiledQuery.raw('SELECT 41 + 1 AS answer')).rows));
    `,
    );
    expect(output.stdout.trim()).toBe('[{"answer":42}]');
    expect(output.code).toBe(0);
    expect(output.ms).toBeLessThan(10_000);
  }, 20_000);

  it('reports a worker that dies before its entry runs as a ConnectionError at the deadline', async () => {
    const failInWorkers =
      "import { isMainThread } from 'node:worker_threads'; if (!isMainThread) throw new Error('no workers here');";
    const output = await runChild(
      ['--input-type=module', `--import=data:text/javascript,${encodeURIComponent(failInWorkers)}`],
      `
      const connection = bridge.acquire();
      const started = performance.now();
      try {
        connection.execute(CompiledQuery.raw('SELECT 1'));
      } catch (error) {
        console.log(JSON.stringify({ name: error.name, message: error.message, ms: performance.now() - started }));
      }
    `,
      500,
    );
    const result = JSON.parse(output.stdout.trim()) as { name: string; message: string; ms: number };
    expect(result.name).toBe('ConnectionError');
    expect(result.message).toMatch(/did not start within callTimeoutMs \(500 ms\)/);
    expect(result.ms).toBeGreaterThanOrEqual(490);
    expect(result.ms).toBeLessThan(3000);
    expect(output.code).toBe(0);
  }, 20_000);
});

/** Runs a script in a fresh Node process with `bridge` (over the fixture) and `CompiledQuery` in scope. */
async function runChild(
  execArgv: string[],
  body: string,
  callTimeoutMs = 10_000,
): Promise<{ code: number | null; stdout: string; ms: number }> {
  const script = `
    import { WorkerBridge } from ${JSON.stringify(BRIDGE_URL)};
    import { CompiledQuery } from 'kysely';
    const bridge = new WorkerBridge(
      { module: ${JSON.stringify(FIXTURE)}, exportName: 'sqliteTest', args: [${JSON.stringify({ filename, logFile })}] },
      { poolSize: 1, callTimeoutMs: ${callTimeoutMs} },
    );
    ${body}
  `;
  const started = Date.now();
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [...execArgv, '-e', script],
      { cwd: new URL('..', import.meta.url), timeout: 15_000 },
      (_error, stdout) => resolve({ code: child.exitCode, stdout, ms: Date.now() - started }),
    );
  });
}
