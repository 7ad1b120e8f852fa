import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Imports an adapter package by name. Tries core's own location first, then the
 * application's (`process.cwd()`): with strict installs (pnpm) an adapter the application
 * depends on is not visible from core's folder.
 *
 * @example
 * ```ts
 * const { postgres } = await importPackage('@sessionfactory/pg')
 * ```
 */
export async function importPackage(name: string): Promise<Record<string, unknown>> {
  if (name.startsWith('file:')) return import(name);
  try {
    return await import(name);
  } catch (first) {
    if ((first as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw first;
    let resolved: string;
    try {
      resolved = createRequire(join(process.cwd(), 'package.json')).resolve(name);
    } catch {
      throw first;
    }
    return import(pathToFileURL(resolved).href);
  }
}
