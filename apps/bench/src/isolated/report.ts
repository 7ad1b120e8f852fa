import { int, mdTable, type TargetLine, textTable, us } from '../report.js';
import { QUEUE_POOL } from './queue.js';
import type { IsoRow, QueueRow } from './run.js';
import type { IsoGroup, IsoTarget } from './variants.js';

/** `postgres, unit of work, C=16` */
export function groupTitle(group: IsoGroup): string {
  return `${group.dialect}, ${group.workload}, C=${group.concurrency}`;
}

const ratioText = (r: number | undefined) => (r === undefined ? 'base' : Number.isNaN(r) ? '?' : `${r.toFixed(2)}x`);

/** What a target asks, e.g. `>= 0.90x raw` or `>= Kysely db.transaction()`. */
function targetText(t: IsoTarget): string {
  return t.min !== undefined ? `>= ${t.min.toFixed(2)}x raw` : `>= ${t.notBelow}'s ratio`;
}

/** Evaluates one target on the rows of its group. */
function evaluate(group: IsoGroup, rows: readonly IsoRow[], target: IsoTarget, minRounds: number): TargetLine {
  const mine = rows.find((r) => r.group === group && r.variant.name === target.variant);
  const other = target.notBelow ? rows.find((r) => r.group === group && r.variant.name === target.notBelow) : undefined;
  const ratio = mine?.ratio;
  const bar = target.min ?? other?.ratio;
  const measurable = ratio !== undefined && !Number.isNaN(ratio) && bar !== undefined && !Number.isNaN(bar);
  const rounds = mine?.ratios.length ?? 0;
  // A PASS needs the median of enough rounds (issues 10 and 12: five); fewer (quick mode) is a WARN.
  const few = rounds < minRounds ? ` (${rounds} rounds, ${minRounds} needed)` : '';
  return {
    status: measurable && ratio >= bar && !few ? 'PASS' : 'WARN',
    source: `issue ${target.issue}`,
    dialect: group.dialect,
    scope: `${group.workload}, C=${group.concurrency}`,
    row: target.variant,
    target: target.notBelow && other ? `${targetText(target)} (${ratioText(other.ratio)})` : targetText(target),
    measured: measurable ? `${ratio.toFixed(2)}x${few}` : 'not measured',
  };
}

/** Every target of the isolated groups that ran (a group filtered down to a few rows keeps only its own). */
export function isolatedTargets(rows: readonly IsoRow[], minRounds: number): TargetLine[] {
  const groups = [...new Set(rows.map((r) => r.group))];
  return groups.flatMap((group) =>
    group.targets
      .filter((t) => rows.some((r) => r.group === group && r.variant.name === t.variant))
      .map((t) => evaluate(group, rows, t, minRounds)),
  );
}

/** The queue test's target: every session completed, in FIFO order. */
export function queueTargets(rows: readonly QueueRow[]): TargetLine[] {
  return rows
    .filter((r) => r.name === 'sf.session')
    .map((r) => {
      const q = r.result;
      const ok = q !== undefined && q.completed === q.sessions && q.fifo === true;
      return {
        status: ok ? 'PASS' : 'WARN',
        source: 'issue 12',
        dialect: r.dialect,
        scope: `${q?.sessions ?? '?'} sessions queued on a pool of ${QUEUE_POOL}`,
        row: r.name,
        target: 'all complete, FIFO',
        measured: q
          ? `${q.completed}/${q.sessions} complete, ${q.fifo === undefined ? 'order unreadable' : q.fifo ? 'FIFO' : `${q.outOfOrder} out of order`}`
          : `failed: ${r.error}`,
      };
    });
}

const HEAD = ['variant', 'ops/s', 'vs raw', 'rounds: min .. max', 'CPU µs/op', 'n', 'target', 'result'];
const RIGHT = new Set([1, 2, 3, 4, 5]);

function cells(row: IsoRow, targets: readonly TargetLine[]): string[] {
  const scope = `${row.group.workload}, C=${row.group.concurrency}`;
  const mine = targets.filter(
    (t) => t.dialect === row.group.dialect && t.scope === scope && t.row === row.variant.name,
  );
  const range = row.ratios.length
    ? `${Math.min(...row.ratios).toFixed(2)} .. ${Math.max(...row.ratios).toFixed(2)}`
    : '';
  const failures = row.errors.length ? ` ${row.errors.length} failed: ${row.errors[0]}` : '';
  return [
    row.variant.name,
    Number.isNaN(row.opsPerSec) ? 'FAILED' : int(row.opsPerSec),
    ratioText(row.ratio),
    range,
    Number.isNaN(row.cpuUs) ? '' : us(row.cpuUs),
    String(row.rounds),
    mine.map((t) => t.target).join('; '),
    `${mine.map((t) => t.status).join(', ')}${failures}`.trim(),
  ];
}

/** One table per group, as console text or Markdown. */
export function renderIsolated(rows: readonly IsoRow[], targets: readonly TargetLine[], markdown: boolean): string {
  const groups = [...new Set(rows.map((r) => r.group))];
  return groups
    .map((group) => {
      const body = rows.filter((r) => r.group === group).map((r) => cells(r, targets));
      return markdown
        ? `### ${groupTitle(group)}\n\n${mdTable(HEAD, body, RIGHT)}`
        : ` ${groupTitle(group)}\n${textTable(HEAD, body, RIGHT)}`;
    })
    .join('\n\n');
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const QUEUE_HEAD = [
  'database',
  'variant',
  'completed',
  'connection order',
  'body start: max displacement',
  'total s',
  'sessions/s',
  'RSS before',
  'peak RSS',
  'heap before',
  'peak heap',
];

/** The queue test's table. */
export function renderQueues(rows: readonly QueueRow[], markdown: boolean): string {
  const body = rows.map((r) => {
    const q = r.result;
    if (!q) return [r.dialect, r.name, `FAILED: ${r.error}`, '', '', '', '', '', '', '', ''];
    return [
      r.dialect,
      r.name,
      `${q.completed}/${q.sessions}${q.failed ? ` (${q.failed} failed: ${q.firstError})` : ''}`,
      q.fifo === undefined ? 'unreadable' : q.fifo ? 'FIFO' : `${q.outOfOrder} out of order`,
      String(q.maxDisplacement),
      (q.totalMs / 1000).toFixed(2),
      int((q.completed * 1000) / q.totalMs),
      mib(q.rssBefore),
      mib(q.rssPeak),
      mib(q.heapBefore),
      mib(q.heapPeak),
    ];
  });
  const right = new Set([4, 5, 6, 7, 8, 9, 10]);
  return markdown ? mdTable(QUEUE_HEAD, body, right) : textTable(QUEUE_HEAD, body, right);
}
