/**
 * The parent's `execArgv` minus the flags a worker thread rejects at startup. Workers
 * inherit `process.execArgv`, and `--input-type` (as in `node --input-type=module -e ...`)
 * makes the worker die before any of its code runs, which a blocked main thread could only
 * notice at the deadline.
 *
 * @example
 * ```ts
 * workerExecArgv(['--input-type=module', '--conditions=dev']) // ['--conditions=dev']
 * ```
 */
export function workerExecArgv(execArgv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let index = 0; index < execArgv.length; index++) {
    const arg = execArgv[index]!;
    if (arg.startsWith('--input-type=')) continue;
    if (arg === '--input-type') {
      index++;
      continue;
    }
    kept.push(arg);
  }
  return kept;
}
