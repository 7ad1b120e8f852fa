import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatQueryEvent } from '../src/events/echo.js';
import { type ErrorEvent, type QueryEvent, UniqueViolationError } from '../src/index.js';
import { BEGIN, COMMIT, harness, insert, ROLLBACK, rejection } from './support/harness.js';

afterEach(() => {
  vi.restoreAllMocks();
});

const INSERT_NAMED = 'insert into "t" ("id", "name") values (?, ?)';

describe('echo', () => {
  it('a function receives statement, duration, session and connection, but no parameters by default', async () => {
    const events: QueryEvent[] = [];
    const { sf } = await harness({ echo: (e) => events.push(e) });
    events.length = 0; // the harness's CREATE TABLE
    await sf.session((tx) => insert(tx, 7, 'secret-name'));
    expect(events.map((e) => e.sql)).toEqual([BEGIN, INSERT_NAMED, COMMIT]);
    for (const event of events) {
      expect(event).not.toHaveProperty('parameters');
      expect(event.sessionId).toBe('s1');
      expect(event.connectionId).toBe(1);
      expect(event.durationMs).toBeGreaterThanOrEqual(0);
    }
    expect(JSON.stringify(events)).not.toContain('secret-name');
  });

  it('includes parameters with logParameters: true', async () => {
    const events: QueryEvent[] = [];
    const { sf } = await harness({ echo: (e) => events.push(e), logParameters: true });
    events.length = 0;
    await sf.session((tx) => insert(tx, 7, 'visible-name'));
    expect(events[1]).toMatchObject({ sql: INSERT_NAMED, parameters: [7, 'visible-name'] });
  });

  it('echo: true writes one line per statement to stderr, parameters hidden', async () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const { sf } = await harness({ echo: true });
    write.mockClear();
    await sf.session((tx) => insert(tx, 7, 'secret-name'));
    const lines = write.mock.calls.map((call) => String(call[0]));
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(
      /^\[sessionfactory\] s1 c1 \d+\.\dms insert into "t" \("id", "name"\) values \(\?, \?\)\n$/,
    );
    expect(lines.join('')).not.toContain('secret-name');
  });

  it('echo: true with logParameters shows them', async () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const { sf } = await harness({ echo: true, logParameters: true });
    write.mockClear();
    await insert(sf.db, 7, 'shown');
    expect(String(write.mock.calls[0]![0])).toMatch(/ \[7,"shown"\]\n$/);
  });

  it('formats failures with their code and bigint parameters safely', () => {
    const line = formatQueryEvent({
      sql: 'insert into t values (?)',
      parameters: [10n],
      durationMs: 1.25,
      sessionId: undefined,
      connectionId: 3,
      error: new UniqueViolationError('dup'),
    });
    expect(line).toBe('[sessionfactory] - c3 1.3ms insert into t values (?) ["10"] FAILED UNIQUE_VIOLATION');
  });
});

describe('query events', () => {
  it('hide parameters unless logParameters, and carry the typed error of a failed statement', async () => {
    const { sf } = await harness();
    const events: QueryEvent[] = [];
    sf.on('query', (e) => events.push(e));
    await insert(sf.db, 1, 'taken');
    await rejection(sf.session((tx) => insert(tx, 2, 'taken')));
    expect(events.map((e) => [e.sql, e.sessionId, e.error?.code])).toEqual([
      [INSERT_NAMED, undefined, undefined],
      [BEGIN, 's1', undefined],
      [INSERT_NAMED, 's1', 'UNIQUE_VIOLATION'],
      [ROLLBACK, 's1', undefined],
    ]);
    expect(events[2]!.error).toBeInstanceOf(UniqueViolationError);
    expect(events.some((e) => 'parameters' in e)).toBe(false);
  });

  it('on() returns an unsubscribe function; off() removes a listener', async () => {
    const { sf } = await harness();
    const a: string[] = [];
    const b: string[] = [];
    const listenerB = (e: QueryEvent) => void b.push(e.sql);
    const off = sf.on('query', (e) => void a.push(e.sql));
    sf.on('query', listenerB);
    await insert(sf.db, 1);
    off();
    sf.off('query', listenerB);
    await insert(sf.db, 2);
    expect(a).toHaveLength(1);
    expect(b).toHaveLength(1);
  });

  it('a throwing listener never breaks the statement; it is reported as an error event', async () => {
    const { sf } = await harness();
    const errors: ErrorEvent[] = [];
    sf.on('error', (e) => errors.push(e));
    sf.on('query', () => {
      throw new Error('listener bug');
    });
    await sf.session((tx) => insert(tx, 1));
    expect(errors).toHaveLength(3);
    expect(errors[0]).toMatchObject({ phase: 'listener', error: { message: 'listener bug' } });
  });
});

describe('pool events', () => {
  it('connect, checkout, checkin and invalidate', async () => {
    const { adapter, sf } = await harness();
    const log: string[] = [];
    sf.on('connect', (e) => log.push(`connect ${e.connectionId}`));
    sf.on('checkout', (e) => log.push(`checkout ${e.connectionId}`));
    sf.on('checkin', (e) => log.push(`checkin ${e.connectionId}`));
    sf.on('invalidate', (e) => log.push(`invalidate ${e.connectionId} ${e.reason}`));
    await sf.session(async () => {});
    adapter.fail({ match: COMMIT, error: 'DATABASE' });
    await rejection(sf.session(async () => {}));
    await sf.session(async () => {});
    expect(log).toEqual([
      'checkout 1',
      'checkin 1',
      'checkout 1',
      'invalidate 1 COMMIT failed',
      'connect 2',
      'checkout 2',
      'checkin 2',
    ]);
  });
});

describe('sf.ping()', () => {
  it('reports latency and server version and returns the connection', async () => {
    const { sf } = await harness();
    const result = await sf.ping();
    expect(result.serverVersion).toBe('fake-1.0');
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    expect(sf.stats().inUse).toBe(0);
  });
});
