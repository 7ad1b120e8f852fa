import type { ErrorCode } from '../errors/error-codes.js';

/** A fault the fake adapter injects when a statement matches. */
export interface FakeFault {
  /** Matched against the statement's SQL (a string must match exactly). */
  readonly match: RegExp | string;
  /** Throw an error classified as this code. */
  readonly error?: ErrorCode;
  /** Wait this long before running (cancel() interrupts the wait with a STATEMENT_TIMEOUT error). */
  readonly delayMs?: number;
  /** Mark the connection broken (as a dropped socket would). */
  readonly breakConnection?: boolean;
  /** How many times it fires; default once. */
  readonly times?: number;
}

/** Active faults, consumed as they fire. */
export class FakeFaults {
  readonly #faults: { fault: FakeFault; left: number }[] = [];

  add(fault: FakeFault): void {
    this.#faults.push({ fault, left: fault.times ?? 1 });
  }

  clear(): void {
    this.#faults.length = 0;
  }

  /** The fault for this statement, if any (and counts it as fired). */
  take(sql: string): FakeFault | undefined {
    const index = this.#faults.findIndex(({ fault }) =>
      typeof fault.match === 'string' ? fault.match === sql : fault.match.test(sql),
    );
    if (index < 0) return undefined;
    const entry = this.#faults[index]!;
    entry.left -= 1;
    if (entry.left <= 0) this.#faults.splice(index, 1);
    return entry.fault;
  }
}
