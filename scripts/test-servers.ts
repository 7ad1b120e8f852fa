// Vitest global setup: the extra servers the scale-out tests need (a Postgres streaming replica,
// a failover pair, PgBouncer, a MariaDB primary with a GTID replica, a three-node Galera
// cluster). `.ci/run` starts them itself and exports where they are; a plain `pnpm test` on a
// developer's machine gets them from here, so the quick start's test command stays the whole
// suite. Each server whose variable is unset is started by its script and stopped at the end.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const scripts = dirname(fileURLToPath(import.meta.url));

interface Server {
  /** The variable the tests read; set means someone else runs the server. */
  readonly variable: string;
  readonly script: string;
  /** Starts the server; returns the variables to export. */
  readonly start: () => Record<string, string>;
}

function run(script: string, ...args: string[]): string {
  return execFileSync('bash', [join(scripts, script), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

/** `NAME=value` lines of a script's output. */
function assignments(output: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const line of output.split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match) found[match[1]!] = match[2]!;
  }
  return found;
}

const SERVERS: readonly Server[] = [
  { variable: 'PG_REPLICA_URL', script: 'pg-replica.sh', start: () => assignments(run('pg-replica.sh', 'start')) },
  { variable: 'PGBOUNCER_URL', script: 'pgbouncer.sh', start: () => assignments(run('pgbouncer.sh', 'start')) },
  {
    variable: 'PG_FAILOVER_URLS',
    script: 'pg-failover-cluster.sh',
    start: () => assignments(run('pg-failover-cluster.sh', 'start')),
  },
  {
    variable: 'GALERA_URLS',
    script: 'galera-cluster.sh',
    start: () => {
      run('galera-cluster.sh', 'start');
      return { GALERA_URLS: run('galera-cluster.sh', 'urls').trim().split('\n').join(' ') };
    },
  },
  {
    variable: 'MARIADB_REPLICA_URL',
    script: 'mariadb-replica.sh',
    start: () => {
      run('mariadb-replica.sh', 'start');
      const [primary = '', replica = ''] = run('mariadb-replica.sh', 'urls').trim().split('\n');
      return { MARIADB_PRIMARY_URL: primary, MARIADB_REPLICA_URL: replica };
    },
  },
];

export default function setup(): () => void {
  const started: Server[] = [];
  for (const server of SERVERS) {
    if (process.env[server.variable]) continue;
    console.log(`test servers: starting ${server.script} (${server.variable} is not set)`);
    const exported = server.start();
    if (!exported[server.variable]) throw new Error(`scripts/${server.script} start did not report ${server.variable}`);
    Object.assign(process.env, exported);
    started.push(server);
  }
  if (started.some((server) => server.variable === 'PG_REPLICA_URL')) process.env.PG_REPLICA_REQUIRED = '1';
  return () => {
    for (const server of started.reverse()) {
      try {
        run(server.script, 'stop');
      } catch (error) {
        console.error(`test servers: scripts/${server.script} stop failed: ${(error as Error).message}`);
      }
    }
  };
}
