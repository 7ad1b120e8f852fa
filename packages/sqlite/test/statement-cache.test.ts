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
