import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../../../scripts/pgbouncer.sh', import.meta.url));

/** A PgBouncer (transaction pooling) to run tests through, and how to let go of it. */
export interface PgBouncer {
  /** `postgres://postgres@127.0.0.1:<port>/test` */
  readonly url: string;
  /** Stops it if this process started it; otherwise does nothing. */
  stop(): void;
}

/**
 * The PgBouncer of `PGBOUNCER_URL` (.ci/run starts one with scripts/pgbouncer.sh and exports it).
 * Under CI a missing `PGBOUNCER_URL` is an error. Elsewhere, this process starts its own with the
 * same script, on a free port with its own directory, and `stop()` ends it.
 *
 * @example
 * ```ts
 * const bouncer = await usePgBouncer()
 * afterAll(() => bouncer.stop())
 * ```
 */
export async function usePgBouncer(): Promise<PgBouncer> {
  const given = process.env.PGBOUNCER_URL;
  if (given !== undefined && given !== '') return { url: given, stop: () => {} };
  if (process.env.CI) {
    throw new Error(
      'PGBOUNCER_URL is not set: .ci/run must start scripts/pgbouncer.sh and export the PGBOUNCER_URL it prints',
    );
  }
  const port = await freePort();
  const env = {
    ...process.env,
    PGBOUNCER_PORT: String(port),
    PGBOUNCER_DIR: `/var/tmp/sessionfactory-pgbouncer-${port}`,
  };
  const output = execFileSync(SCRIPT, ['start'], { env, encoding: 'utf8', timeout: 60_000 });
  const url = /^PGBOUNCER_URL=(.*)$/m.exec(output)?.[1];
  if (url === undefined) throw new Error(`scripts/pgbouncer.sh start printed no PGBOUNCER_URL:\n${output}`);
  return { url, stop: () => execFileSync(SCRIPT, ['stop'], { env, timeout: 60_000 }) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
