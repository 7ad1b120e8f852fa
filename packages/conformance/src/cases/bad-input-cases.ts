import { ConfigurationError } from '@sessionfactory/core';
import { expect } from 'vitest';
import { rejectionOf } from '../suite/async-helpers.js';
import { selectOne } from '../suite/raw-queries.js';
import type { SuiteContext } from '../suite/suite-context.js';

/** Session options every adapter must refuse before touching the database. */
const BAD_SESSION_OPTIONS: readonly (readonly [string, unknown])[] = [
  ['null options', null],
  ['options that are not an object', 'serializable'],
  ['a misspelled option (timeOutMs)', { timeOutMs: 1000 }],
  ['retry: null', { retry: null }],
  ['retry with an unknown key', { retry: { attempts: 2, delayMs: 5 } }],
  ['signal: {}', { signal: {} }],
  ['timeoutMs above 2^31-1', { timeoutMs: 2 ** 31 }],
  ['isolation: null', { isolation: null }],
];

/**
 * Bad session options are a `ConfigurationError` on every adapter, raised before a connection
 * is taken or the unit of work runs (never a `TypeError`, never silently ignored).
 *
 * @example
 * ```ts
 * registerBadInputCases(ctx);
 * ```
 */
export function registerBadInputCases(ctx: SuiteContext): void {
  for (const [what, options] of BAD_SESSION_OPTIONS) {
    ctx.test(`${what} is a ConfigurationError from session() and begin(), before any work`, async () => {
      const sf = await ctx.open();
      let ran = false;
      const error = await rejectionOf(
        sf.session(async (tx) => {
          ran = true;
          await selectOne(tx);
        }, options as never),
      );
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(ran).toBe(false);
      expect(await rejectionOf(sf.begin(options as never))).toBeInstanceOf(ConfigurationError);
      expect(sf.stats()).toMatchObject({ inUse: 0, waiting: 0 });
      // The factory is unharmed: a good session still runs.
      expect(await sf.session(async (tx) => (await selectOne(tx)) !== undefined)).toBe(true);
    });
  }
}
