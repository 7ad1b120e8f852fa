import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh directory under the OS temp dir; `remove()` deletes it with everything inside. */
export interface TempDirectory {
  readonly path: string;
  /** A path inside the directory (the file is not created). */
  file(name: string): string;
  remove(): void;
}

/**
 * Creates a temp directory for one test file's databases.
 *
 * @example
 * ```ts
 * const dir = createTempDirectory()
 * afterAll(() => dir.remove())
 * const adapter = sqlite(dir.file('app.db'))
 * ```
 */
export function createTempDirectory(): TempDirectory {
  const path = mkdtempSync(join(tmpdir(), 'sessionfactory-sqlite-'));
  return {
    path,
    file: (name) => join(path, name),
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}
