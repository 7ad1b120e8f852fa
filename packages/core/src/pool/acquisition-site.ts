/** Frames captured at checkout: enough to get past the library's own frames into the caller's. */
const CAPTURED_FRAMES = 40;

/**
 * Where core's own modules are, whose frames a leak report leaves out: `dist/`, and `src/` for
 * frames that source maps point back to the TypeScript.
 */
const CORE_FOLDERS = ['../../dist/', '../../src/'].map((path) => new URL(path, import.meta.url));

/** A generator being resumed (core's transaction rules): no file, nothing to learn. */
const GENERATOR_STEP = /^\s*at \S+\.(next|throw|return) \(<anonymous>\)$/;

/**
 * Where a connection was acquired: a stack captured (not yet formatted; V8 formats it only when
 * read) at the pool's public entry point. Only created with `leakDetectionMs` set.
 */
export interface AcquisitionSite {
  readonly stack?: string;
}

/**
 * Captures the caller's stack, `entry` (the pool method called) and everything it called left
 * out.
 *
 * @example
 * ```ts
 * const site = captureAcquisitionSite(Pool.prototype.acquire);
 * ```
 */
export function captureAcquisitionSite(entry: Function): AcquisitionSite {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = CAPTURED_FRAMES;
  const site: { stack?: string } = {};
  Error.captureStackTrace(site, entry);
  Error.stackTraceLimit = limit;
  return site;
}

/**
 * The captured frames as text (`    at fn (file:line:col)` lines), core's own frames (and the
 * generator steps of its transaction rules) left out, so the first line is the application's;
 * all frames when every one is core's.
 *
 * @example
 * ```ts
 * formatAcquisitionSite(site) // '    at handler (file:///app/routes.js:12:9)\n    at ...'
 * ```
 */
export function formatAcquisitionSite(site: AcquisitionSite): string {
  const frames = (site.stack ?? '').split('\n').filter((line) => line.trimStart().startsWith('at '));
  const own = CORE_FOLDERS.flatMap((folder) => [folder.href, decodeURIComponent(folder.pathname)]);
  const foreign = frames.filter((line) => !GENERATOR_STEP.test(line) && !own.some((root) => line.includes(root)));
  return (foreign.length > 0 ? foreign : frames).join('\n');
}
