/**
 * Narration and bookkeeping for the run: numbered steps, plain-words notes, and checks that
 * are counted so the process can exit non-zero when any of them fails.
 */
export class Checks {
  passed = 0;
  failed = 0;
  readonly #print: (line: string) => void;

  constructor(print: (line: string) => void = (line) => console.log(line)) {
    this.#print = print;
  }

  /** Starts a numbered step. */
  step(title: string): void {
    this.#print('');
    this.#print(title);
  }

  /** A line of narration. */
  say(text: string): void {
    this.#print(`   ${text}`);
  }

  /** Records a check and prints it; returns `ok` so callers can branch on it. */
  check(label: string, ok: boolean, detail?: string): boolean {
    if (ok) this.passed += 1;
    else this.failed += 1;
    this.#print(`   ${ok ? 'PASS' : 'FAIL'}  ${label}${detail === undefined ? '' : ` (${detail})`}`);
    return ok;
  }

  /** Runs one step; an unexpected error fails the step instead of ending the run. */
  async run(title: string, body: () => Promise<void> | void): Promise<void> {
    this.step(title);
    await this.guard(body);
  }

  /** Runs part of a step; an unexpected error counts as a failed check. */
  async guard(body: () => Promise<void> | void): Promise<void> {
    try {
      await body();
    } catch (error) {
      this.check('step finished without an unexpected error', false, describeError(error));
    }
  }

  summary(): string {
    return `${this.passed} checks passed, ${this.failed} failed`;
  }
}

/** `ClassName: message`, for errors printed in the run. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** The error `work` rejects with, or `undefined` if it succeeds: for steps that expect a failure. */
export async function errorOf(work: Promise<unknown>): Promise<unknown> {
  try {
    await work;
    return undefined;
  } catch (error) {
    return error;
  }
}
