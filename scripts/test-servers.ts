// Vitest global setup: the extra servers the scale-out tests need (a Postgres streaming replica,
// a failover pair, PgBouncer, a MariaDB primary with a GTID replica, a three-node Galera
// cluster). `.ci/run` starts them itself and exports where they are; a plain `pnpm test` on a
// developer's machine gets them from here, so the quick start's test command stays the whole
// suite. A server whose variable is unset but which already answers on its fixed ports (another
// run's) is used as it is; otherwise it is started by its script and stopped at the end.
import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const scripts = dirname(fileURLToPath(import.meta.url));

interface Server {
  /** The variable the tests read; set means someone else runs the server. */
  readonly variable: string;
  readonly script: string;
  /** The 127.0.0.1 ports the scripts always use, and the variables that name them there. */
  readonly ports: readonly number[];
  readonly running: Record<string, string>;
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

/** Whether something accepts connections on 127.0.0.1:`port` (within half a second). */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, timeout: 500 });
    const done = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

const pg = (port: number) => `postgres://postgres@127.0.0.1:${port}/test`;
const my = (port: number) => `mysql://root@127.0.0.1:${port}/test`;

const SERVERS: readonly Server[] = [
  {
    variable: 'PG_REPLICA_URL',
    script: 'pg-replica.sh',
    ports: [5433],
    running: { PG_REPLICA_URL: pg(5433) },
    start: () => assignments(run('pg-replica.sh', 'start')),
  },
  {
    variable: 'PGBOUNCER_URL',
    script: 'pgbouncer.sh',
    ports: [6432],
    running: { PGBOUNCER_URL: pg(6432) },
    start: () => assignments(run('pgbouncer.sh', 'start')),
  },
  {
    variable: 'PG_FAILOVER_URLS',
    script: 'pg-failover-cluster.sh',
    ports: [5434, 5435],
    running: { PG_FAILOVER_URLS: 'postgres://postgres@127.0.0.1:5434,127.0.0.1:5435/test' },
    start: () => assignments(run('pg-failover-cluster.sh', 'start')),
  },
  {
    variable: 'GALERA_URLS',
    script: 'galera-cluster.sh',
    ports: [3311, 3312, 3313],
    running: { GALERA_URLS: [3311, 3312, 3313].map(my).join(' ') },
    start: () => {
      run('galera-cluster.sh', 'start');
      return { GALERA_URLS: run('galera-cluster.sh', 'urls').trim().split('\n').join(' ') };
    },
  },
  {
    variable: 'MARIADB_REPLICA_URL',
    script: 'mariadb-replica.sh',
    ports: [3307, 3308],
    running: { MARIADB_PRIMARY_URL: my(3307), MARIADB_REPLICA_URL: my(3308) },
    start: () => {
      run('mariadb-replica.sh', 'start');
      const [primary = '', replica = ''] = run('mariadb-replica.sh', 'urls').trim().split('\n');
      return { MARIADB_PRIMARY_URL: primary, MARIADB_REPLICA_URL: replica };
    },
  },
];

export default async function setup(): Promise<() => void> {
  const started: Server[] = [];
  for (const server of SERVERS) {
    if (process.env[server.variable]) continue;
    // Up already (another run started it): use it, and leave it to whoever started it.
    if ((await Promise.all(server.ports.map(answers))).every(Boolean)) {
      Object.assign(process.env, server.running);
      continue;
    }
    console.log(`test servers: starting ${server.script} (${server.variable} is not set)`);
    const exported = server.start();
    if (!exported[server.variable]) throw new Error(`scripts/${server.script} start did not report ${server.variable}`);
    Object.assign(process.env, exported);
    started.push(server);
  }
  if (process.env.PG_REPLICA_URL) process.env.PG_REPLICA_REQUIRED = '1';
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
