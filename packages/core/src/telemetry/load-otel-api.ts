import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The parts of `@opentelemetry/api` core uses. */
export type OtelApi = typeof import('@opentelemetry/api');

const API_PACKAGE = '@opentelemetry/api';

/** Looked up once per process: factories after the first pay nothing, found or not. */
let lookedUp: { readonly api: OtelApi | undefined } | undefined;

/**
 * Loads `@opentelemetry/api` synchronously (factories are created synchronously), from core's
 * own location, else from the application's (with strict installs an optional peer may be
 * visible only there). Undefined when it is not installed. The API keeps its registrations on
 * `globalThis`, so this copy sees providers registered through any other copy.
 *
 * @example
 * ```ts
 * const api = loadOtelApi(); // undefined without @opentelemetry/api
 * ```
 */
export function loadOtelApi(): OtelApi | undefined {
  lookedUp ??= { api: findOtelApi() };
  return lookedUp.api;
}

function findOtelApi(): OtelApi | undefined {
  const bases = [import.meta.url, process.argv[1] ? join(dirname(process.argv[1]), 'noop.js') : undefined];
  bases.push(join(process.cwd(), 'noop.js'));
  for (const base of bases) {
    if (base === undefined) continue;
    try {
      return createRequire(base)(API_PACKAGE) as OtelApi;
    } catch (error) {
      if ((error as { code?: string }).code !== 'MODULE_NOT_FOUND') throw error;
    }
  }
  return undefined;
}
