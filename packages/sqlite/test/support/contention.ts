import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';

/**
 * Watches the event loop with a 5 ms interval timer: `stop()` returns the longest gap between two
 * ticks (a blocked loop shows up as one long gap) and how many ticks ran.
 *
 * @example
 * ```ts
 * const lag = watchEventLoop();
 * await work();
 * expect(lag.stop().maxGapMs).toBeLessThan(300);
 * ```
 */
export function watchEventLoop(): { stop(): { maxGapMs: number; ticks: number } } {
  let last = performance.now();
  let maxGapMs = 0;
  let ticks = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
    ticks += 1;
  }, 5);
  return {
    stop() {
      clearInterval(timer);
      maxGapMs = Math.max(maxGapMs, performance.now() - last);
      return { maxGapMs, ticks };
    },
  };
}

/** A promise with its resolve exposed. */
export function deferred<T = void>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** A child process holding SQLite's write lock on a file. */
export interface LockHolder {
  /** Resolves once the child has committed and exited. */
  readonly done: Promise<void>;
  readonly child: ChildProcess;
}

const require = createRequire(import.meta.url);

// Plain CommonJS run with `node -e`: better-sqlite3 from this package's own dependency.
const HOLDER_SCRIPT = `
const Database = require(process.argv[1]);
const db = new Database(process.argv[2]);
db.exec('BEGIN IMMEDIATE');
db.exec("INSERT INTO item (name) VALUES ('from the other process')");
process.stdout.write('locked\\n');
setTimeout(() => { db.exec('COMMIT'); db.close(); process.exit(0); }, Number(process.argv[3]));
`;

/**
 * Starts another process that takes the write lock of `filename` (BEGIN IMMEDIATE plus one
 * insert into `item`), holds it for `holdMs`, then commits. Resolves once the lock is held.
 *
 * @example
 * ```ts
 * const holder = await holdWriteLockInChild('app.db', 1000);
 * await holder.done;
 * ```
 */
export function holdWriteLockInChild(filename: string, holdMs: number): Promise<LockHolder> {
  const child = spawn(
    process.execPath,
    ['-e', HOLDER_SCRIPT, require.resolve('better-sqlite3'), filename, String(holdMs)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`lock holder exited with ${code}`))));
  });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('locked')) resolve({ done, child });
    });
    done.catch(reject);
  });
}
