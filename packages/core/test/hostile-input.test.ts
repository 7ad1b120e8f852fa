// Every public entry point of core, fed bad or hostile input: each case must be a
// ConfigurationError (never a TypeError or URIError) and no password may show up in the error,
// however it is printed. Adapter configs and URLs have the same table in each adapter package.
import { describe, expect, it } from 'vitest';
import { redactPassword, workerBridgeSupport } from '../src/adapter/index.js';
import { ConfigurationError, createSessionFactory, type FactoryOptions, openSessionFactory } from '../src/index.js';
import { fakeAdapter, findSecret } from '../src/testing/index.js';
import { harness, rejection, thrown } from './support/harness.js';

/** A password with every character that broke redaction: `/`, a space, `@`, `%`. */
const SECRET = 'Zq9kX/Wm4pL Tr7vB@Hn2cD%Jy5fG';
const ENCODED = encodeURIComponent(SECRET);
const TOO_LONG = 2 ** 31;

function expectConfigurationError(error: unknown): void {
  expect(error).toBeInstanceOf(ConfigurationError);
  expect(findSecret(SECRET, error)).toBeUndefined();
}

describe('openSessionFactory(url) with bad input', () => {
  it.each([
    ['a number', 5432],
    ['an object', { url: 'postgres://db/app' }],
    ['null', null],
    ['an array', ['postgres://db/app']],
    ['a function', () => 'postgres://db/app'],
  ])('url as %s is a ConfigurationError, not a TypeError', async (_what, url) => {
    const error = await rejection(openSessionFactory(url as never));
    expectConfigurationError(error);
    expect(error.message).toMatch(/url must be a string/);
  });

  it.each([
    ['a raw password with / space @ %', `postgress://app:${SECRET}@db:5432/shop`],
    ['an encoded password', `postgress://app:${ENCODED}@db:5432/shop`],
    ['a password and no user', `oracle://:${SECRET}@db/shop`],
    ['no scheme at all', `app:${SECRET}@db/shop`],
    ['a password with a newline', `postgress://app:${SECRET}\n@db/shop`],
  ])('a misspelled scheme with %s never shows the password', async (_what, url) => {
    const error = await rejection(openSessionFactory(url));
    expectConfigurationError(error);
    expect(error.message).toMatch(/Unknown database URL scheme/);
  });
});

describe('factory options: every bad value is a ConfigurationError', () => {
  const adapter = fakeAdapter();
  const cases: [string, unknown, RegExp][] = [
    ['null options', null, /expected an object, got null/],
    ['an array of options', [], /expected an object, got an array/],
    ['a misspelled option', { pol: {} }, /Unknown option pol\./],
    ['pool: null', { pool: null }, /pool: expected an object, got null/],
    ['a misspelled pool option', { pool: { timeOutMs: 5 } }, /Unknown option pool\.timeOutMs/],
    ['pool.size: null', { pool: { size: null } }, /pool\.size: null/],
    ['pool.size as a string', { pool: { size: '5' } }, /pool\.size must be an integer/],
    ['pool.timeoutMs above 2^31-1', { pool: { timeoutMs: TOO_LONG } }, /pool\.timeoutMs must be .*2\^31-1/],
    ['pool.idleTimeoutMs above 2^31-1', { pool: { idleTimeoutMs: TOO_LONG } }, /pool\.idleTimeoutMs/],
    ['pool.recycleMs above 2^31-1', { pool: { recycleMs: TOO_LONG } }, /pool\.recycleMs/],
    ['session: null', { session: null }, /session: expected an object/],
    ['a misspelled session default', { session: { timeOutMs: 5 } }, /Unknown option session\.timeOutMs/],
    ['signal as a session default', { session: { signal: AbortSignal.timeout(5) } }, /Unknown option session\.signal/],
    ['session.timeoutMs above 2^31-1', { session: { timeoutMs: TOO_LONG } }, /session\.timeoutMs: 2147483648/],
    ['session.retry: null', { session: { retry: null } }, /session\.retry: null/],
    ['session.retry as a string', { session: { retry: '3' } }, /session\.retry: "3"/],
    ['session.retry with a typo', { session: { retry: { attempts: 3, maxDelay: 5 } } }, /session\.retry\.maxDelay/],
    ['retry.maxDelayMs above 2^31-1', { session: { retry: { attempts: 2, maxDelayMs: TOO_LONG } } }, /maxDelayMs/],
    ['sync: null', { sync: null }, /sync: expected an object/],
    ['sync.callTimeoutMs above 2^31-1', { sync: { callTimeoutMs: TOO_LONG } }, /sync\.callTimeoutMs/],
    ['sync.poolSize: null', { sync: { poolSize: null } }, /sync\.poolSize: null/],
    ['logParameters: null', { logParameters: null }, /logParameters: null/],
    ['echo as an object', { echo: { password: SECRET } }, /Invalid echo: an object/],
  ];
  it.each(cases)('%s', (_what, options, message) => {
    const error = thrown(() => createSessionFactory(adapter, options as FactoryOptions));
    expectConfigurationError(error);
    expect(error.message).toMatch(message);
  });

  it('accepts the largest duration a timer honours', () => {
    const sf = createSessionFactory(adapter, {
      pool: { idleTimeoutMs: 2 ** 31 - 1 },
      session: { timeoutMs: 2 ** 31 - 1 },
    });
    expect(sf.isClosed).toBe(false);
  });
});

describe('session options: every bad value is a ConfigurationError before any statement', () => {
  const cases: [string, unknown, RegExp][] = [
    ['null', null, /expected an object or undefined, got null/],
    ['a string', 'serializable', /got "serializable"/],
    ['an AbortSignal in place of the options', AbortSignal.timeout(5), /expected an object or undefined/],
    ['a misspelled option', { timeOutMs: 1000 }, /Unknown option timeOutMs in sf\.\w+/],
    ['retry: null', { retry: null }, /retry: null/],
    ['retry: {}', { retry: {} }, /retry attempts: undefined/],
    ['signal: {}', { signal: {} }, /Invalid signal: an object/],
    ['signal as a string', { signal: 'abort' }, /Invalid signal: "abort"/],
    ['timeoutMs above 2^31-1', { timeoutMs: TOO_LONG }, /timeoutMs: 2147483648/],
    ['timeoutMs: NaN', { timeoutMs: Number.NaN }, /timeoutMs: NaN/],
    ['isolation: null', { isolation: null }, /isolation: null/],
    ['propagation: null', { propagation: null }, /propagation: null/],
    ['readOnly as a string', { readOnly: 'true' }, /readOnly: "true"/],
  ];

  it.each(cases)('sf.session(fn, %s)', async (_what, options, message) => {
    const { adapter, sf } = await harness();
    let ran = false;
    const error = await rejection(sf.session(async () => void (ran = true), options as never));
    expectConfigurationError(error);
    expect(error.message).toMatch(message);
    expect(ran).toBe(false);
    expect(adapter.statements).toEqual([]);
  });

  it.each(cases)('sf.begin(%s)', async (_what, options, message) => {
    const { adapter, sf } = await harness();
    const error = await rejection(sf.begin(options as never));
    expectConfigurationError(error);
    const takesNoRetry = typeof options === 'object' && options !== null && 'retry' in options;
    expect(error.message).toMatch(takesNoRetry ? /sf\.begin\(options\) takes no retry option/ : message);
    expect(adapter.statements).toEqual([]);
  });

  it.each(cases)('sf.syncSession(fn, %s)', async (_what, options) => {
    const { adapter, sf } = await harness();
    let ran = false;
    const error = thrown(() => sf.syncSession(() => void (ran = true), options as never));
    expectConfigurationError(error);
    expect(ran).toBe(false);
    expect(adapter.statements).toEqual([]);
  });

  it('options an entry point does not take are refused by name, not ignored', async () => {
    const { sf } = await harness();
    expect((await rejection(sf.begin({ retry: 3 } as never))).message).toBe(
      'sf.begin(options) takes no retry option. It takes: isolation, readOnly, timeoutMs, signal, propagation, after.',
    );
    expect(thrown(() => sf.syncSession(() => 1, { signal: AbortSignal.timeout(50) } as never)).message).toMatch(
      /sf\.syncSession\(fn, options\) takes no signal option/,
    );
  });

  it('a real AbortSignal and undefined options still work', async () => {
    const { sf } = await harness();
    await expect(sf.session(async () => 'ok', undefined)).resolves.toBe('ok');
    await expect(sf.session(async () => 'ok', { signal: new AbortController().signal })).resolves.toBe('ok');
  });
});

describe('sf.close(options)', () => {
  it.each([
    ['timeoutMs above 2^31-1', { timeoutMs: TOO_LONG }, /close timeoutMs: 2147483648/],
    ['timeoutMs: null', { timeoutMs: null }, /close timeoutMs: null/],
    ['a misspelled option', { timeOutMs: 5 }, /Unknown option close\.timeOutMs/],
    ['null options', null, /close options: expected an object, got null/],
  ])('%s rejects with a ConfigurationError and leaves the factory open', async (_what, options, message) => {
    const { sf } = await harness();
    const error = await rejection(sf.close(options as never));
    expectConfigurationError(error);
    expect(error.message).toMatch(message);
    expect(sf.isClosed).toBe(false);
    await expect(sf.session(async () => 'still open')).resolves.toBe('still open');
  });
});

describe('no password in public objects', () => {
  it('an adapter whose worker spec carries the password prints it redacted everywhere', () => {
    const input = { url: `postgres://app:${ENCODED}@db/shop`, password: SECRET };
    const adapter = {
      ...fakeAdapter(),
      ...workerBridgeSupport({ module: 'm', exportName: 'e', input, capabilities: fakeAdapter().capabilities }),
    };
    expect(findSecret(SECRET, adapter, adapter.workerSpec, adapter.workerSpec?.args)).toBeUndefined();
    // ...while the worker still receives the real values.
    expect(structuredClone(adapter.workerSpec)?.args).toEqual([input]);
    const sf = createSessionFactory(adapter);
    expect(findSecret(SECRET, sf, sf.description)).toBeUndefined();
  });

  it.each([
    ['a / in it', 'postgres://app:Zq9kX/Wm4pL@db/shop'],
    ['a space in it', 'postgres://app:Zq9kX Wm4pL@db/shop'],
    ['an @ in it', 'postgres://app:Zq9kX@Wm4pL@db/shop'],
    ['all of them', `postgres://app:${SECRET}@db/shop`],
  ])('redactPassword hides a raw password with %s', (_what, url) => {
    const redacted = redactPassword(`connecting to ${url} failed`);
    expect(redacted).toBe('connecting to postgres://app:***@db/shop failed');
  });
});
