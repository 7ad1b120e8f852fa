/**
 * The parent's `execArgv` minus the flags a worker thread rejects at startup. Workers
 * inherit `process.execArgv`, and `--input-type` (as in `node --input-type=module -e ...`)
 * makes the worker die before any of its code runs, which a blocked main thread could only
 * notice at the deadline.
 */
export function workerExecArgv(execArgv: readonly string[]): string[] | undefined {
  // Inherit untouched unless something must go: an explicit list may not hold V8 flags
  // (--expose-gc, --max-old-space-size), which Node accepts only by inheritance.
  if (!execArgv.some((arg) => arg === '--input-type' || arg.startsWith('--input-type='))) return undefined;
  const kept: string[] = [];
  for (let index = 0; index < execArgv.length; index++) {
    const arg = execArgv[index]!;
    if (arg.startsWith('--input-type=')) continue;
    if (arg === '--input-type') {
      index++;
      continue;
    }
    if (!isV8Flag(arg)) kept.push(arg);
  }
  return kept;
}

const V8_FLAGS =
  /^--(expose[-_]gc|max[-_]old[-_]space[-_]size|max[-_]semi[-_]space[-_]size|stack[-_]size|v8-|trace[-_]gc|title)/;

function isV8Flag(arg: string): boolean {
  return V8_FLAGS.test(arg);
}
