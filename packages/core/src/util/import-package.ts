import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Imports an adapter package by name. Tries core's own location first, then the
 * application's (the main script's folder, then `process.cwd()`): with strict installs
 * (pnpm) an adapter the application depends on is not visible from core's folder.
 */
export async function importPackage(name: string): Promise<Record<string, unknown>> {
  if (name.startsWith('file:')) return import(name);
  try {
    return await import(name);
  } catch (first) {
    if ((first as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw first;
    const resolved = resolveFromApplication(name);
    if (resolved === undefined) throw first;
    return import(pathToFileURL(resolved).href);
  }
}

function resolveFromApplication(name: string): string | undefined {
  const bases = [process.argv[1] ? dirname(process.argv[1]) : undefined, process.cwd()];
  for (const base of bases) {
    if (base === undefined) continue;
    try {
      return createRequire(join(base, 'noop.js')).resolve(name);
    } catch {
      // not visible from here; try the next base
    }
  }
  return undefined;
}
