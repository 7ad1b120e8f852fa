import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Timing } from './harness.js';
import { renderChart } from './isolated/chart.js';
import { isolatedTargets, queueTargets, renderIsolated, renderQueues } from './isolated/report.js';
import {
  describeWindows,
  type IsoRow,
  type IsoSettings,
  type QueueRow,
  runIsolated,
  runQueues,
} from './isolated/run.js';
import { filterGroups, isolatedGroups } from './isolated/variants.js';
import type { Kit } from './kits/kit.js';
import { openKit, type ServerUrls } from './kits/open.js';
import { HAS_GC, runMemory } from './memory.js';
import {
  inProcessTargets,
  prePingSummary,
  renderMarkdown,
  renderTargets,
  renderText,
  type Section,
  type TargetLine,
} from './report.js';
import { closeFactories, openFactories, runSpeed, WORKERS } from './suite.js';

const env = process.env;
const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const num = (value: string | undefined, fallback: number) => (value === undefined ? fallback : Number(value));

const QUICK = env.BENCH_QUICK === '1' || process.argv.includes('--quick');
const TIMING: Timing = QUICK
  ? { roundMs: 30, rounds: 7, warmupMs: 30 }
  : { roundMs: num(env.BENCH_ROUND_MS, 60), rounds: num(env.BENCH_ROUNDS, 10), warmupMs: 100 };
const ISOLATED: IsoSettings = {
  rounds: num(env.BENCH_ISO_ROUNDS, QUICK ? 2 : 5),
  warmupMs: num(env.BENCH_ISO_WARMUP_MS, QUICK ? 200 : 1500),
  warmupOps: num(env.BENCH_ISO_WARMUP_OPS, QUICK ? 500 : 10_000),
  warmupMaxMs: num(env.BENCH_ISO_WARMUP_MAX_MS, QUICK ? 1000 : 4000),
  measureMs: num(env.BENCH_ISO_MEASURE_MS, QUICK ? 300 : 1500),
};
/** Issue 12 and 10 count a target as met only as the median of at least this many rounds. */
const MIN_ROUNDS = 5;
const MEMORY_SESSIONS = num(env.BENCH_MEMORY_SESSIONS, QUICK ? 2000 : 10_000);
const QUEUE_SESSIONS = num(env.BENCH_QUEUE_SESSIONS, QUICK ? 2000 : 10_000);
const DB_FILTER = arg('db') ?? env.BENCH_DBS;
const DBS = (DB_FILTER ?? 'sqlite,postgres,mysql').split(',').map((s) => s.trim());
const ALL_PARTS = ['isolated', 'queue', 'inprocess'] as const;
const PARTS_FILTER = arg('parts') ?? env.BENCH_PARTS;
const PARTS = new Set((PARTS_FILTER ?? ALL_PARTS.join(',')).split(',').map((s) => s.trim()));
const VARIANT = arg('variant') ?? env.BENCH_VARIANT;
const ONLY = arg('only') ?? env.BENCH_ONLY ?? (VARIANT ? '' : undefined);
const MEMORY = env.BENCH_MEMORY !== '0' && !process.argv.includes('--no-memory');
const URLS: ServerUrls = {
  postgres: env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  mysql: env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test',
};
const RESULTS = env.BENCH_OUT ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'results', 'latest.md');
const CHART = RESULTS.replace(/\.md$/, '.svg');

for (const part of PARTS) {
  if (!(ALL_PARTS as readonly string[]).includes(part)) {
    throw new Error(`unknown part ${JSON.stringify(part)} in --parts / BENCH_PARTS (use ${ALL_PARTS.join(', ')})`);
  }
}

const load = loadavg()
  .map((l) => l.toFixed(2))
  .join(' ');

function environment(): string[] {
  const cpu = cpus();
  return [
    `node ${process.version} on ${process.platform}/${process.arch}, ${cpu.length} x ${cpu[0]?.model ?? '?'}`,
    `load average at start: ${load}`,
    `mode: ${QUICK ? 'quick' : 'full'}; parts: ${[...PARTS].join(', ')}`,
    `one process per variant: ${ISOLATED.rounds} interleaved rounds; ${describeWindows(ISOLATED)}; queue test: ${QUEUE_SESSIONS} sessions`,
    `in-process groups: ${TIMING.rounds} interleaved rounds of ~${TIMING.roundMs} ms after ${TIMING.warmupMs} ms warm-up; memory: ${MEMORY ? `${MEMORY_SESSIONS} sessions` : 'off'}, gc ${HAS_GC ? 'exposed' : 'NOT exposed (run with --expose-gc)'}`,
    `factories use the default configuration (pool.prePing on) unless a row says otherwise; in-process concurrency: ${WORKERS} closed-loop workers`,
  ];
}

/** The method of the one-process-per-variant part, as it heads the results. */
const METHOD = [
  'Issues 10 and 12 are judged on the **one process per variant** tables below. Each variant (a row) runs in',
  'a fresh Node process started with `process.execPath`, so no JIT, GC or pool state carries over between',
  'variants. A child opens only its own client (pool of 10 on Postgres/MySQL), runs `C` closed-loop workers',
  '(each starts its next transaction when its last one ends) for the warm-up (long enough in time AND in',
  'operations: V8 optimizes after enough calls, and 500 ms alone left `sf.session` at twice its warm CPU per',
  'transaction on Postgres), then counts the transactions',
  'completed in the measured window and the CPU time of the whole child process (all threads, user + system)',
  'in it. Every variant runs once per round; within a round the groups run one after another and the',
  "variants of a group in a rotated order. A row's ratio is the median over the rounds of its ops/s divided",
  'by the raw driver’s ops/s in the same round; `rounds: min .. max` is the spread of those per-round',
  'ratios. Unit of work: `BEGIN; SELECT by PK; UPDATE by PK; COMMIT`. See apps/bench/README.md.',
];

async function main(): Promise<void> {
  const started = performance.now();
  const header = environment();
  console.log(header.join('\n'));
  let failed = false;

  const kits = new Map<string, Kit>();
  for (const dialect of DBS) {
    try {
      const kit = await openKit(dialect, URLS);
      if (kit) {
        kits.set(dialect, kit);
        console.error(`${dialect}: ${kit.version}`);
      }
    } catch (error) {
      console.log(`${dialect}: setup failed: ${(error as Error).stack ?? error}`);
      failed = true;
    }
  }
  const places = new Map([...kits].map(([dialect, kit]) => [dialect, kit.place]));

  let isoRows: IsoRow[] = [];
  let queueRows: QueueRow[] = [];
  const sections: Section[] = [];
  try {
    if (PARTS.has('isolated')) {
      let groups = filterGroups(isolatedGroups([...kits.keys()]), ONLY);
      if (VARIANT) {
        groups = groups.flatMap((g) => {
          const kept = g.variants.filter((v, k) => k === 0 || v.name === VARIANT);
          return kept.length > 1 ? [{ ...g, variants: kept }] : [];
        });
      }
      if (groups.length > 0) {
        isoRows = await runIsolated(groups, places, URLS, ISOLATED);
        if (isoRows.some((r) => r.errors.length > 0)) failed = true;
        console.log(
          `\n== one process per variant ==\n${renderIsolated(isoRows, isolatedTargets(isoRows, MIN_ROUNDS), false)}`,
        );
      }
    }
    if (PARTS.has('queue') && ONLY === undefined) {
      queueRows = await runQueues([...kits.keys()], places, URLS, QUEUE_SESSIONS);
      if (queueRows.some((r) => !r.result)) failed = true;
      console.log(
        `\n== ${QUEUE_SESSIONS} sessions queued at once on a pool of 10 ==\n${renderQueues(queueRows, false)}`,
      );
    }
    if (PARTS.has('inprocess')) {
      for (const [dialect, kit] of kits) {
        console.error(`${dialect}: in-process groups`);
        const factories = openFactories(kit);
        try {
          const rows = await runSpeed(kit, factories, TIMING, ONLY, VARIANT);
          if (rows.some((r) => r.error)) failed = true;
          await closeFactories(factories);
          const memory = MEMORY && ONLY === undefined ? await runMemory(kit, MEMORY_SESSIONS) : [];
          const section: Section = {
            dialect,
            version: kit.version,
            rows,
            memory,
            pings: { sent: factories.pings.count },
          };
          sections.push(section);
          console.log(renderText(section));
        } catch (error) {
          console.log(`${dialect}: failed: ${(error as Error).stack ?? error}`);
          failed = true;
          await closeFactories(factories).catch(() => {});
        }
      }
    }
  } finally {
    for (const [dialect, kit] of kits) {
      await kit.close().catch((error: unknown) => console.log(`${dialect}: cleanup failed: ${error}`));
    }
  }

  const isoTargets = isolatedTargets(isoRows, MIN_ROUNDS);
  const targets: TargetLine[] = [...isoTargets, ...queueTargets(queueRows), ...inProcessTargets(sections)];
  const prePing = prePingSummary(sections);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`\nTargets (WARN does not fail the run):\n${renderTargets(targets, false)}`);
  if (prePing.length) {
    console.log(`\nprePing (default on) cost, measured separately:\n${prePing.map((l) => `  ${l}`).join('\n')}`);
  }
  console.log(`\nTotal ${seconds} s`);

  // Only a complete, error-free run replaces the committed results (BENCH_WRITE=1 forces it, =0 prevents it).
  const complete =
    ONLY === undefined && DB_FILTER === undefined && PARTS_FILTER === undefined && MEMORY && !QUICK && !failed;
  const write = env.BENCH_WRITE === undefined ? complete : env.BENCH_WRITE === '1';
  if (write && (sections.length > 0 || isoRows.length > 0 || queueRows.length > 0)) {
    const generated = new Date().toISOString();
    const md = [
      '# Benchmark results: @sessionfactory vs raw drivers, Kysely and Knex',
      '',
      `Generated ${generated} by \`pnpm bench\` (apps/bench), ${seconds} s.`,
      '',
      ...header.map((l) => `- ${l}`),
      '',
      '## Method',
      '',
      ...METHOD,
      '',
      '## Targets',
      '',
      'A WARN never fails the run. Issue targets count only as medians of at least five rounds.',
      '',
      renderTargets(targets, true),
      '',
      ...(isoRows.length
        ? [
            '## One process per variant',
            '',
            `![ratio to the raw driver per variant](${CHART.split('/').pop()})`,
            '',
            'ops/s: median over the rounds; vs raw: median of the per-round ratios to the raw driver of the same',
            'round (higher is better); CPU µs/op: median CPU time of the child process per transaction (point',
            'select for the point-select group), all threads; n: rounds measured.',
            '',
            renderIsolated(isoRows, isoTargets, true),
            '',
          ]
        : []),
      ...(queueRows.length
        ? [
            `## ${QUEUE_SESSIONS} sessions queued at once on a pool of 10`,
            '',
            'Each database in a child process of its own; every unit of work is submitted in one synchronous loop',
            'on a warm pool of 10. connection order: FIFO when every session got its connection after every',
            "session queued before it (`sf.session`: from the factory's `checkout` and `query` events; raw: a counter",
            "bumped when the driver's pool hands a connection out). body start: how far the order the bodies started",
            'in strays from the queue order (two sessions handed out together race through their BEGINs).',
            'peak RSS: the process peak (getrusage). heap: heapUsed after a GC before, and the highest seen during.',
            '',
            renderQueues(queueRows, true),
            '',
          ]
        : []),
      ...(sections.length
        ? [
            '## In-process groups',
            '',
            'All variants of a group in one process (see apps/bench/README.md). ops/s: median over the rounds; vs',
            'base: ops/s relative to the first row of the same group; overhead µs/op: extra wall time per operation',
            'against that row; CPU µs/op: CPU time of the whole process (all threads) per operation.',
            '',
            '### prePing',
            '',
            ...prePing.map((l) => `- ${l.replace(/ {2,}/g, ' ')}`),
            '',
            ...sections.flatMap((s) => [renderMarkdown(s).replace(/^(#+) /gm, '#$1 '), '']),
          ]
        : []),
    ].join('\n');
    mkdirSync(dirname(RESULTS), { recursive: true });
    writeFileSync(RESULTS, md);
    console.log(`Wrote ${RESULTS}`);
    if (isoRows.length) {
      const svg = renderChart(isoRows, isoTargets, {
        title: 'Unit of work and point select: ratio to the raw driver (one process per variant)',
        subtitle: `${generated.slice(0, 16).replace('T', ' ')} UTC · node ${process.version} · ${cpus().length} x ${cpus()[0]?.model ?? '?'} · load ${load} · median of ${ISOLATED.rounds} rounds`,
      });
      writeFileSync(CHART, svg);
      console.log(`Wrote ${CHART}`);
    }
  }
  if (failed) process.exitCode = 1;
}

await main();
