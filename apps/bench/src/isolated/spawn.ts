import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ChildResult, type ChildSpec, RESULT_MARK, SPEC_ENV } from './protocol.js';

const HERE = dirname(fileURLToPath(import.meta.url));
/** The compiled child next to this file; from the sources (the bench's tests) the one in dist/. */
const CHILD = existsSync(join(HERE, 'child.js')) ? join(HERE, 'child.js') : join(HERE, '../../dist/isolated/child.js');

/**
 * Node flags for every child: `--expose-gc` (the queue test settles the heap before it starts),
 * plus BENCH_CHILD_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=prof` to profile the variants).
 */
const NODE_ARGS = ['--expose-gc', ...(process.env.BENCH_CHILD_NODE_ARGS?.split(' ').filter(Boolean) ?? [])];

let profiles = 0;

/** With `--cpu-prof` among the child flags, a profile file name that says which child it was. */
function profileName(spec: ChildSpec): string[] {
  if (!NODE_ARGS.includes('--cpu-prof')) return [];
  const what = spec.mode === 'speed' ? `${spec.group}-${spec.variant}` : `queue-${spec.dialect}-${spec.variant}`;
  const slug = what.replace(/[^A-Za-z0-9.]+/g, '_').replace(/^_|_$/g, '');
  return [`--cpu-prof-name=${String(++profiles).padStart(3, '0')}-${slug}.cpuprofile`];
}

/**
 * Runs one measurement in a fresh Node process (the same binary as this one), so JIT and GC
 * state never carry over between variants. Resolves with the child's answer, or a failure that
 * says why (exit code, last lines of stderr, timeout); never rejects.
 */
export function runChild(spec: ChildSpec, timeoutMs: number): Promise<ChildResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...NODE_ARGS, ...profileName(spec), CHILD], {
      env: { ...process.env, [SPEC_ENV]: JSON.stringify(spec) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ ok: false, error: `could not start ${process.execPath}: ${error.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_MARK));
      if (line) {
        resolve(JSON.parse(line.slice(RESULT_MARK.length)) as ChildResult);
        return;
      }
      const why = timedOut ? `timed out after ${timeoutMs} ms` : `exited with ${signal ?? `code ${code}`}`;
      const tail = stderr.trim().split('\n').slice(-3).join(' | ');
      resolve({ ok: false, error: `child ${why}${tail ? `: ${tail}` : ''}` });
    });
  });
}
