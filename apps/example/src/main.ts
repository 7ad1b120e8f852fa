/**
 * A small ledger that shows what sessionfactory is for: units of work that commit or roll
 * back as a whole, the same code and the same typed errors on SQLite, Postgres and MySQL.
 *
 *   pnpm demo                                                   # embedded SQLite, nothing to set up
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test pnpm demo
 *   DATABASE_URL=mysql://root@127.0.0.1:3306/test pnpm demo
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
 *     DATABASE_REPLICA_URLS=postgres://postgres@127.0.0.1:5433/test pnpm demo   # reads on replicas
 *
 * Every step prints what happens and checks the outcome; any failed check makes the exit
 * code non-zero.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CheckViolationError,
  FactoryClosedError,
  openSessionFactory,
  type RouteEvent,
  type SessionFactory,
  UniqueViolationError,
} from '@sessionfactory/core';
import { Checks, describeError, errorOf } from './checks.js';
import { Ledger, type Receipt, TRANSFER_SESSION, type Transfer, type TransferHooks } from './ledger.js';
import { balanceReport, formatReport } from './report.js';
import { type AccountTable, createSchema, type LedgerDB } from './schema.js';

/** Without DATABASE_URL: an SQLite file in the temp directory (reruns reuse it). */
const DEFAULT_DATABASE_URL = `sqlite:${join(tmpdir(), 'sessionfactory-ledger.db')}`;

const ALICE = 1;
const BOB = 2;
const CAROL = 3;
const FEES = 4;
const OPENING_BALANCES: readonly AccountTable[] = [
  { id: ALICE, owner: 'alice', balance: 100 },
  { id: BOB, owner: 'bob', balance: 100 },
  { id: CAROL, owner: 'carol', balance: 100 },
  { id: FEES, owner: 'fees', balance: 0 },
];
const TOTAL = OPENING_BALANCES.reduce((sum, account) => sum + account.balance, 0);
const OWNER = new Map(OPENING_BALANCES.map((account) => [account.id, account.owner]));
const CONCURRENT_TRANSFERS = 20;

async function main(): Promise<number> {
  const checks = new Checks();
  // `DATABASE_URL=` (empty) counts as unset, as in most tools: `||`, not `??`.
  const url = process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
  const replicas = replicaUrls(process.env.DATABASE_REPLICA_URLS);
  console.log('sessionfactory ledger example');

  // 1. One line picks the database: the URL's scheme selects the adapter package.
  checks.step('1. Open the session factory and create the schema');
  let sf: SessionFactory<LedgerDB>;
  try {
    sf = await openSessionFactory<LedgerDB>(url, {
      echo: process.env.LEDGER_ECHO === '1',
      ...(replicas.length > 0 ? { replicas, replicaWaitMs: 1000 } : {}),
    });
  } catch (error) {
    checks.check('the database answers', false, describeError(error));
    console.log(`\n${checks.summary()}`);
    return 1;
  }
  const ledger = new Ledger(sf);
  const onSqlite = sf.dialect === 'sqlite';

  await checks.guard(async () => {
    const { serverVersion, latencyMs } = await sf.ping();
    checks.say(`Database: ${sf.dialect} at ${sf.description} (server ${serverVersion})`);
    checks.check('the database answers a ping', true, `${latencyMs.toFixed(1)} ms`);
    await createSchema(sf);
    await ledger.openAccounts(OPENING_BALANCES);
    checks.say('Created tables ledger_account and ledger_transfer (old ones dropped first).');
    checks.say(`Opened ${OPENING_BALANCES.length} accounts: ${describeBalances(await ledger.balances())}`);
    checks.check(`${OPENING_BALANCES.length} accounts hold ${TOTAL} in total`, sum(await ledger.balances()) === TOTAL);
  });

  // 2. Many units of work at once; the database keeps them serializable, the factory retries.
  await checks.run(`2. ${CONCURRENT_TRANSFERS} concurrent transfers, serializable, retried on conflict`, async () => {
    const plan = Array.from({ length: CONCURRENT_TRANSFERS }, (_, i): Transfer => {
      const from = (i % 3) + 1; // alice -> bob -> carol -> alice ...
      return { from, to: (from % 3) + 1, amount: 5 + (i % 7) };
    });
    const expected = applyTransfers(await ledger.balances(), plan);
    const retriedErrors = new Map<string, number>();
    const offRollback = sf.on('rollback', ({ error }) => {
      const name = error instanceof Error ? error.name : 'unknown';
      retriedErrors.set(name, (retriedErrors.get(name) ?? 0) + 1);
    });
    let busiest = 0;
    const offCheckout = sf.on('checkout', () => (busiest = Math.max(busiest, sf.stats().inUse)));
    const attemptsBefore = ledger.attempts;
    const started = performance.now();

    const results = await Promise.allSettled(plan.map((transfer) => ledger.transfer(transfer)));

    const elapsed = performance.now() - started;
    offRollback();
    offCheckout();
    const failures = results.filter((result) => result.status === 'rejected');
    const retries = ledger.attempts - attemptsBefore - plan.length; // first attempts are not retries
    const runsAs = sf.capabilities.isolation[TRANSFER_SESSION.isolation!] ?? 'unsupported';
    checks.say(
      `Started ${plan.length} transfers at once with Promise.all; each asks for 'serializable' (runs as '${runsAs}').`,
    );
    checks.say(`At most ${busiest} connection(s) were in use at the same time; took ${elapsed.toFixed(0)} ms.`);
    if (onSqlite) {
      checks.say('SQLite: the pool has one connection, so the sessions queued and ran one after another;');
      checks.say('SQLite is always serializable (one writer at a time), so nothing had to be retried.');
    }
    if (retries > 0) {
      const causes = [...retriedErrors].map(([name, count]) => `${name} x${count}`).join(', ');
      checks.say(`${retries} attempt(s) hit a conflict, were rolled back and run again (${causes});`);
      checks.say(`the most any one transfer needed was ${ledger.mostAttempts} attempts.`);
    } else if (busiest > 1) {
      checks.say("The transfers waited for each other's row locks; none failed, so none had to be retried.");
    }
    for (const failure of failures) checks.say(`failed: ${describeError((failure as PromiseRejectedResult).reason)}`);
    const balances = await ledger.balances();
    checks.say(`Balances now: ${describeBalances(balances)}`);
    checks.check(`all ${CONCURRENT_TRANSFERS} transfers committed`, failures.length === 0);
    checks.check(
      'each retry followed a rolled-back attempt (rollback events)',
      sumValues(retriedErrors) === retries + failures.length,
    );
    checks.check(`the total is still ${TOTAL}`, sum(balances) === TOTAL);
    checks.check(
      'no balance is negative',
      [...balances.values()].every((balance) => balance >= 0),
    );
    checks.check('each balance is what the transfers add up to (no lost update)', sameBalances(balances, expected));
    checks.check(
      `${CONCURRENT_TRANSFERS} transfer rows were recorded`,
      (await ledger.transferCount()) === CONCURRENT_TRANSFERS,
    );
  });

  // 3. The database's CHECK constraint, not the application, refuses an overdraft.
  await checks.run('3. An overdraft is rejected by the CHECK constraint', async () => {
    const before = await ledger.balances();
    const transfersBefore = await ledger.transferCount();
    const amount = before.get(CAROL)! + 1000;
    checks.say(`carol (balance ${before.get(CAROL)}) tries to send ${amount} to alice.`);
    const error = await errorOf(ledger.transfer({ from: CAROL, to: ALICE, amount }));
    checks.say(`Raised: ${describeError(error)}`);
    if (error instanceof CheckViolationError) checks.say(`constraint: ${error.constraint ?? '(not reported)'}`);
    const after = await ledger.balances();
    checks.check('the error is a CheckViolationError', error instanceof CheckViolationError);
    checks.check('the session rolled back: balances unchanged', sameBalances(after, before));
    checks.check('no transfer row was recorded', (await ledger.transferCount()) === transfersBefore);
  });

  // 4. The same typed error on every database, with the constraint's name when the database gives it.
  await checks.run('4. A duplicate account is rejected as UniqueViolationError', async () => {
    checks.say("Opening a second account for owner 'alice'.");
    const error = await errorOf(ledger.openAccounts([{ id: 5, owner: 'alice', balance: 0 }]));
    checks.say(`Raised: ${describeError(error)}`);
    if (error instanceof UniqueViolationError) {
      checks.say(`constraint: ${error.constraint ?? '(not reported)'}, table: ${error.table ?? '(not reported)'}`);
    }
    checks.check('the error is a UniqueViolationError', error instanceof UniqueViolationError);
    checks.check('no account was added', (await ledger.accountCount()) === OPENING_BALANCES.length);
  });

  // 5. A savepoint rolls back part of a unit of work and keeps the rest.
  await checks.run('5. A savepoint: the fee step fails alone, the transfer commits', async () => {
    let before = await ledger.balances();
    checks.say('bob sends 10 to carol; a fee of 1 goes to the fees account in a savepoint.');
    const charged = await ledger.transferWithFee(
      { from: BOB, to: CAROL, amount: 10 },
      { from: BOB, to: FEES, amount: 1 },
    );
    let after = await ledger.balances();
    checks.say(`Fee ${charged.feeCharged ? 'charged' : 'waived'}. Balances now: ${describeBalances(after)}`);
    checks.check('transfer and fee both committed', charged.feeCharged && after.get(FEES) === before.get(FEES)! + 1);

    before = after;
    const amount = before.get(CAROL)! - 2;
    checks.say(`carol sends all but 2 (${amount}) to alice; a fee of 5 would overdraw her.`);
    const waived = await ledger.transferWithFee(
      { from: CAROL, to: ALICE, amount },
      { from: CAROL, to: FEES, amount: 5 },
    );
    after = await ledger.balances();
    checks.say(
      `The fee step failed (${describeError(waived.feeError)}); it was rolled back to its savepoint and waived.`,
    );
    checks.say(`Balances now: ${describeBalances(after)}`);
    checks.check('the fee step failed with CheckViolationError', waived.feeError instanceof CheckViolationError);
    checks.check(
      'the transfer still committed',
      after.get(CAROL) === 2 && after.get(ALICE) === before.get(ALICE)! + amount,
    );
    checks.check('no fee was taken', after.get(FEES) === before.get(FEES));
    checks.check(`the total is still ${TOTAL}`, sum(after) === TOTAL);
  });

  // 6. Side effects (a receipt, an e-mail, a message) belong after COMMIT, never before.
  await checks.run('6. Hooks: a receipt only after COMMIT, a note after ROLLBACK', async () => {
    const timeline: string[] = [];
    const offCommit = sf.on('commit', ({ sessionId }) => timeline.push(`commit ${sessionId}`));
    const hooks: TransferHooks = {
      committed: (r: Receipt) => {
        timeline.push(`receipt ${r.sessionId}`);
        checks.say(
          `receipt: transfer #${r.transferId}, ${OWNER.get(r.from)} -> ${OWNER.get(r.to)}, ${r.amount} (session ${r.sessionId} committed)`,
        );
      },
      rolledBack: (r: Receipt) => {
        timeline.push(`rolled back ${r.sessionId}`);
        checks.say(`no receipt: transfer #${r.transferId} was rolled back (session ${r.sessionId})`);
      },
    };
    try {
      checks.say('alice sends 7 to bob:');
      await ledger.transfer({ from: ALICE, to: BOB, amount: 7 }, hooks);
      const committedSession = timeline[0]?.split(' ')[1];
      checks.check(
        'the receipt came after COMMIT, and nothing was rolled back',
        timeline.join() === `commit ${committedSession},receipt ${committedSession}`,
        timeline.join(' | '),
      );

      timeline.length = 0;
      checks.say('alice sends 0 to bob (the amount > 0 CHECK refuses it):');
      const error = await errorOf(ledger.transfer({ from: ALICE, to: BOB, amount: 0 }, hooks));
      checks.say(`Raised: ${describeError(error)}`);
      checks.check(
        'onRollback ran, no receipt and no COMMIT',
        timeline.length === 1 && timeline[0]!.startsWith('rolled back'),
        timeline.join(' | '),
      );
      checks.check('the error is a CheckViolationError', error instanceof CheckViolationError);
    } finally {
      offCommit();
    }
  });

  // 7. The same unit of work, synchronously: handy in code that cannot await.
  await checks.run('7. A synchronous report (sf.syncSession)', async () => {
    const rows = balanceReport(sf);
    checks.say(
      onSqlite
        ? 'SQLite runs the sync scope natively, on its connection.'
        : `${sf.dialect} runs the sync scope in a worker thread; this thread blocks until it answers.`,
    );
    for (const line of formatReport(rows)) checks.say(line);
    const total = rows.reduce((s, row) => s + row.balance, 0);
    checks.check(`the report totals ${TOTAL}`, total === TOTAL);
    checks.check(
      'it matches the balances read asynchronously',
      sameBalances(new Map(rows.map((row) => [row.id, row.balance])), await ledger.balances()),
    );
  });

  // 8. Read replicas: read-only sessions and sf.db reads go to a replica that has our writes.
  await checks.run('8. Read replicas (DATABASE_REPLICA_URLS) and read-your-writes', async () => {
    if (replicas.length === 0) {
      const server = await sf.session(async (tx) => tx.info.server, { readOnly: true });
      checks.say('No DATABASE_REPLICA_URLS: every session and query runs on the primary.');
      checks.say('Set it to a comma-separated list of replica URLs to route reads to them.');
      checks.check('a read-only session runs on the primary', server === 'primary', server);
      return;
    }
    checks.say(`${replicas.length} replica(s): ${sf.description} is the primary.`);
    const routes: RouteEvent[] = [];
    const offRoute = sf.on('route', (event) => routes.push(event));
    const offHealth = sf.on('replica', ({ server, state, reason }) => checks.say(`${server} is ${state}: ${reason}`));
    try {
      let sawOwnWrites = true;
      const servers = new Map<string, number>();
      for (let i = 0; i < 3; i++) {
        await ledger.transfer({ from: BOB, to: ALICE, amount: 1 });
        const token = sf.consistencyToken();
        // Straight after the write: a read-only session and an sf.db query must both see it.
        const { server, transfers } = await sf.session(
          async (tx) => ({
            server: tx.info.server,
            transfers: Number(
              (
                await tx
                  .selectFrom('ledger_transfer')
                  .select((eb) => eb.fn.countAll().as('n'))
                  .executeTakeFirstOrThrow()
              ).n,
            ),
          }),
          { readOnly: true },
        );
        servers.set(server, (servers.get(server) ?? 0) + 1);
        const expected = await sf.session(async () => ledger.transferCount()); // on the primary
        if (transfers !== expected || (await ledger.transferCount()) !== expected) sawOwnWrites = false;
        checks.say(
          `write committed at position ${token}; the next read ran on ${server} and saw ${transfers} transfers`,
        );
      }
      const reasons = routes.filter((r) => r.reason !== 'write').map((r) => `${r.server} (${r.reason})`);
      checks.say(`Routing decisions for reads: ${[...new Set(reasons)].join(', ')}`);
      checks.check('every read right after a write saw that write (read-your-writes)', sawOwnWrites);
      checks.check(
        'reads ran on a replica',
        [...servers.keys()].some((server) => server.startsWith('replica:')),
        [...servers].map(([server, n]) => `${server} x${n}`).join(', '),
      );
      checks.check(
        'writes ran on the primary',
        routes.some((r) => r.server === 'primary' && r.reason === 'write'),
      );
    } finally {
      offRoute();
      offHealth();
    }
  });

  // 9. Pool gauges, then a clean shutdown.
  await checks.run('9. Pool stats, then close()', async () => {
    const stats = sf.stats();
    checks.say(
      `Pool: ${stats.open} open, ${stats.idle} idle, ${stats.inUse} in use, ${stats.waiting} waiting; ` +
        `${stats.created} created, ${stats.destroyed} destroyed, ${stats.timeouts} timeouts, ` +
        `${stats.recycled} recycled, ${stats.invalidated} invalidated.`,
    );
    if (sf.capabilities.sync === 'worker') checks.say("(open and idle include the sync report's worker connection)");
    checks.check('no connection is left in use or waited for', stats.inUse === 0 && stats.waiting === 0);
    checks.check('no checkout timed out', stats.timeouts === 0);
    await sf.close({ timeoutMs: 5000 });
    const refused = await errorOf(sf.session(async () => 'ran'));
    checks.say(`After close(), a new session is refused: ${describeError(refused)}`);
    checks.check(
      'the factory is closed and refuses new sessions',
      sf.isClosed && refused instanceof FactoryClosedError,
    );
    checks.check('every connection was closed', sf.stats().open === 0, `${sf.stats().open} open`);
  });

  await sf.close(); // idempotent; also covers a step that failed before step 9
  console.log(`\n${checks.summary()}`);
  return checks.failed === 0 ? 0 : 1;
}

/** `DATABASE_REPLICA_URLS`: comma-separated replica URLs (blank entries ignored). */
function replicaUrls(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

/** Balances after applying `transfers` to `start`, computed in memory. */
function applyTransfers(start: ReadonlyMap<number, number>, transfers: readonly Transfer[]): Map<number, number> {
  const result = new Map(start);
  for (const { from, to, amount } of transfers) {
    result.set(from, result.get(from)! - amount);
    result.set(to, result.get(to)! + amount);
  }
  return result;
}

function sameBalances(a: ReadonlyMap<number, number>, b: ReadonlyMap<number, number>): boolean {
  return a.size === b.size && [...a].every(([id, balance]) => b.get(id) === balance);
}

function sum(balances: ReadonlyMap<number, number>): number {
  return sumValues(balances);
}

function sumValues(map: ReadonlyMap<unknown, number>): number {
  let total = 0;
  for (const value of map.values()) total += value;
  return total;
}

function describeBalances(balances: ReadonlyMap<number, number>): string {
  return [...balances].map(([id, balance]) => `${OWNER.get(id) ?? `#${id}`} ${balance}`).join(', ');
}

process.exitCode = await main().catch((error: unknown) => {
  console.error(`Unexpected failure: ${describeError(error)}`);
  return 1;
});
