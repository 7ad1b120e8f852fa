import type { ErrorCode } from '../errors/error-codes.js';

/**
 * The error the fake driver throws for an injected fault; its `fakeCode` says which typed
 * error the fake classifier turns it into.
 *
 * @example
 * ```ts
 * throw new FakeDriverError('DEADLOCK', 'injected deadlock')
 * ```
 */
export class FakeDriverError extends Error {
  readonly fakeCode: ErrorCode;
  constructor(fakeCode: ErrorCode, message: string) {
    super(message);
    this.fakeCode = fakeCode;
  }
}
