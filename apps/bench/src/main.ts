import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Timing } from './harness.js';
import type { Kit } from './kits/kit.js';
import { mysqlKit } from './kits/mysql.js';
import { postgresKit } from './kits/postgres.js';
import { sqliteKit } from './kits/sqlite.js';
import { HAS_GC, runMemory } from './memory.js';
import { prePingSummary, renderMarkdown, renderText, type Section, targetSummary } from './report.js';
import { closeFactories, openFactories, runSpeed, WORKERS } from './suite.js';

const env = process.env;
const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);

const QUICK = env.BENCH_QUICK === '1' || process.argv.includes('--quick');
const TIMING: Timing = QUICK
  ? { roundMs: 30, rounds: 7, warmupMs: 30 }
  : { roundMs: Number(env.BENCH_ROUND_MS ?? 60), rounds: Number(env.BENCH_ROUNDS ?? 15), warmupMs: 100 };
const MEMORY_SESSIONS = Number(env.BENCH_MEMORY_SESSIONS ?? (QUICK ? 2000 : 10_000));
const DB_FILTER = arg('db') ?? env.BENCH_DBS;
const DBS = (DB_FILTER ?? 'sqlite,postgres,mysql').split(',').map((s) => s.trim());
const VARIANT = arg('variant') ?? env.BENCH_VARIANT;
const ONLY = arg('only') ?? env.BENCH_ONLY ?? (VARIANT ? '' : undefined);
const MEMORY = env.BENCH_MEMORY !== '0' && !process.argv.includes('--no-memory');
const PG_URL = env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MYSQL_URL = env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
const RESULTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'results', 'latest.md');

async function openKit(dialect: string): Promise<Kit | undefined> {
  switch (dialect) {
    case 'sqlite':
      return sqliteKit();
    case 'postgres':
      return postgresKit(PG_URL);
    case 'mysql':
      return mysqlKit(MYSQL_URL);
    default:
      throw new Error(`unknown database ${JSON.stringify(dialect)} (use sqlite, postgres, mysql)`);
  }
}

function environment(): string[] {
  const cpu = cpus();
  return [
    `node ${process.version} on ${process.platform}/${process.arch}, ${cpu.length} x ${cpu[0]?.model ?? '?'}`,
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
    `mode: ${QUICK ? 'quick' : 'full'} (${TIMING.rounds} interleaved rounds of ~${TIMING.roundMs} ms after ${TIMING.warmupMs} ms warm-up; median reported, ± is half the interquartile range; ratio and overhead are medians of per-round pairs); memory: ${MEMORY ? `${MEMORY_SESSIONS} sessions` : 'off'}, gc ${HAS_GC ? 'exposed' : 'NOT exposed (run with --expose-gc)'}`,
    `factories use the default configuration (pool.prePing on) unless a row says otherwise; concurrency: ${WORKERS} closed-loop workers`,
  ];
}

async function main(): Promise<void> {
  const started = performance.now();
  const header = environment();
  console.log(header.join('\n'));
  const sections: Section[] = [];
  let failed = false;
  for (const dialect of DBS) {
    let kit: Kit | undefined;
    try {
      kit = await openKit(dialect);
    } catch (error) {
      console.log(`${dialect}: setup failed: ${(error as Error).stack ?? error}`);
      failed = true;
      continue;
    }
    if (!kit) continue;
    console.error(`${dialect}: ${kit.version}`);
    const factories = openFactories(kit);
    try {
      const rows = await runSpeed(kit, factories, TIMING, ONLY, VARIANT);
      if (rows.some((r) => r.error)) failed = true;
      await closeFactories(factories);
      const memory = MEMORY && ONLY === undefined ? await runMemory(kit, MEMORY_SESSIONS) : [];
      const section: Section = { dialect, version: kit.version, rows, memory, pings: { sent: factories.pings.count } };
      sections.push(section);
      console.log(renderText(section));
    } catch (error) {
      console.log(`${dialect}: failed: ${(error as Error).stack ?? error}`);
      failed = true;
      await closeFactories(factories).catch(() => {});
    } finally {
      await kit.close().catch((error: unknown) => console.log(`${dialect}: cleanup failed: ${error}`));
    }
  }

  const targets = targetSummary(sections);
  const prePing = prePingSummary(sections);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`\nTargets (WARN does not fail the run):\n${targets.map((l) => `  ${l}`).join('\n')}`);
  console.log(`\nprePing (default on) cost, measured separately:\n${prePing.map((l) => `  ${l}`).join('\n')}`);
  console.log(`\nTotal ${seconds} s`);

  // Only a complete, error-free run replaces the committed results (BENCH_WRITE=1 forces it, =0 prevents it).
  const complete = ONLY === undefined && DB_FILTER === undefined && MEMORY && !failed;
  const write = env.BENCH_WRITE === undefined ? complete : env.BENCH_WRITE === '1';
  if (write && sections.length > 0) {
    const md = [
      '# Benchmark results: @sessionfactory vs raw drivers',
      '',
      `Generated ${new Date().toISOString()} by \`pnpm bench\` (apps/bench), ${seconds} s.`,
      '',
      ...header.map((l) => `- ${l}`),
      '',
      'ops/s: median over the rounds; vs base: ops/s relative to the first row of the same group (higher is better);',
      'overhead µs/op: extra wall time per operation against that row; CPU µs/op: CPU time of the whole process',
      '(all threads) per operation, the steadier figure on a busy machine. See apps/bench/README.md for what each row does.',
      '',
      '## Targets',
      '',
      ...targets.map((l) => `- ${l.replace(/ {2,}/g, ' ')}`),
      '',
      '## prePing',
      '',
      ...prePing.map((l) => `- ${l.replace(/ {2,}/g, ' ')}`),
      '',
      ...sections.flatMap((s) => [renderMarkdown(s), '']),
    ].join('\n');
    mkdirSync(dirname(RESULTS), { recursive: true });
    writeFileSync(RESULTS, md);
    console.log(`Wrote ${RESULTS}`);
  }
  if (failed) process.exitCode = 1;
}

await main();
