import type BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { StatementCache } from '../src/statement-cache.js';

// A stand-in database that records what it was asked to prepare.
function recordingDatabase() {
  const prepared: string[] = [];
  const db = {
    prepare(sql: string) {
      prepared.push(sql);
      return { source: sql } as unknown as BetterSqlite3.Statement;
    },
  } as unknown as BetterSqlite3.Database;
  return { db, prepared };
}

describe('StatementCache', () => {
  it('prepares each SQL text once and returns the same statement after', () => {
    const { db, prepared } = recordingDatabase();
    const cache = new StatementCache(db, 4);
    const first = cache.prepare('SELECT 1');
    expect(cache.prepare('SELECT 1')).toBe(first);
    expect(prepared).toEqual(['SELECT 1']);
  });

  it('evicts the least recently used statement when full', () => {
    const { db, prepared } = recordingDatabase();
    const cache = new StatementCache(db, 2);
    cache.prepare('a');
    cache.prepare('b');
    cache.prepare('a'); // now b is the least recently used
    cache.prepare('c'); // evicts b
    expect(cache.size).toBe(2);
    cache.prepare('a');
    cache.prepare('b');
    expect(prepared).toEqual(['a', 'b', 'c', 'b']);
  });

  it('tells texts of the same length apart, also when one is built from pieces', () => {
    const { db, prepared } = recordingDatabase();
    const cache = new StatementCache(db, 8);
    const a = cache.prepare('SELECT "a" FROM t');
    const b = cache.prepare('SELECT "b" FROM t');
    expect(b).not.toBe(a);
    // A compiler's output: the same text, concatenated at run time.
    const pieces = ['SELECT ', '"', 'b', '"', ' FROM ', 't'];
    let built = '';
    for (const piece of pieces) built += piece;
    expect(cache.prepare(built)).toBe(b);
    expect(prepared).toEqual(['SELECT "a" FROM t', 'SELECT "b" FROM t']);
  });

  it('forgets an evicted text among others of its length, and finds the rest', () => {
    const { db, prepared } = recordingDatabase();
    const cache = new StatementCache(db, 2);
    const x = cache.prepare('x1');
    cache.prepare('x2');
    cache.prepare('x2'); // x1 is now the one to evict
    cache.prepare('x3'); // evicts x1, same length as the other two
    expect(cache.size).toBe(2);
    cache.prepare('x2');
    cache.prepare('x3');
    expect(prepared).toEqual(['x1', 'x2', 'x3']);
    expect(cache.prepare('x1')).not.toBe(x);
    expect(prepared).toEqual(['x1', 'x2', 'x3', 'x1']);
  });

  it('prepares again after clear', () => {
    const { db, prepared } = recordingDatabase();
    const cache = new StatementCache(db, 2);
    cache.prepare('a');
    cache.clear();
    expect(cache.size).toBe(0);
    cache.prepare('a');
    expect(prepared).toEqual(['a', 'a']);
  });
});

describe('StatementCache.entry: what a statement does to the transaction', () => {
  it('classifies transaction-control statements once, when they are prepared', () => {
    const { db } = recordingDatabase();
    const cache = new StatementCache(db, 16);
    const effect = (sql: string) => cache.entry(sql).transactionEffect;
    expect(effect('BEGIN IMMEDIATE')).toBe('open');
    expect(effect('  savepoint sp_1')).toBe('open');
    expect(effect('COMMIT')).toBe('end');
    expect(effect('END TRANSACTION')).toBe('end');
    expect(effect('ROLLBACK')).toBe('end');
    expect(effect('ROLLBACK TO SAVEPOINT sp_1')).toBe('ask');
    expect(effect('RELEASE SAVEPOINT sp_1')).toBe('ask');
    expect(effect('SELECT 1')).toBeUndefined();
    expect(effect('UPDATE t SET began = 1')).toBeUndefined();
  });
});
