import { paired } from './harness.js';
import type { MemoryRow } from './memory.js';

export interface Row {
  readonly dialect: string;
  readonly group: string;
  readonly name: string;
  readonly opsPerSec: number;
  readonly spread: number;
  /** ops/s of each measured round (round r of every row of a group ran in the same pass). */
  readonly samples: readonly number[];
  /** Median CPU time of the process per operation (µs), all threads. */
  readonly cpuUs: number;
  /** The row this one is compared with; undefined for a baseline. */
  readonly baseline: string | undefined;
  /** ops/s of this row divided by the baseline's. */
  readonly ratio?: number;
  /** Extra time per operation against the baseline, in microseconds. */
  readonly overheadUs?: number;
  readonly target?: string;
  readonly status?: 'PASS' | 'WARN';
  readonly note?: string;
  /** Set when the group could not be measured. */
  readonly error?: string;
}

export const int = (n: number) => Math.round(n).toLocaleString('en-US');
export const us = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2));
const signed = (n: number) => (n >= 0 ? `+${us(n)}` : us(n));

type Cell = string;

function speedCells(row: Row): Cell[] {
  if (row.error) return [row.name, '', '', '', '', '', '', '', `FAILED: ${row.error}`];
  return [
    row.name,
    int(row.opsPerSec),
    `${(row.spread * 100).toFixed(1)}%`,
    row.ratio === undefined ? 'base' : `${row.ratio.toFixed(2)}x`,
    us(1e6 / row.opsPerSec),
    row.overheadUs === undefined ? '' : signed(row.overheadUs),
    us(row.cpuUs),
    row.target ?? '',
    row.status ?? row.note ?? '',
  ];
}

const SPEED_HEAD = ['variant', 'ops/s', '±', 'vs base', 'µs/op', 'overhead µs/op', 'CPU µs/op', 'target', 'result'];
const RIGHT = new Set([1, 2, 3, 4, 5, 6]);

export function textTable(head: Cell[], body: Cell[][], right: Set<number>, indent = '  '): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: Cell[]) =>
    indent +
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), indent + widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** A Markdown table laid out the way the repo's formatter (Biome) writes it: padded, aligned columns. */
export function mdTable(head: Cell[], body: Cell[][], right: Set<number>): string {
  const rows = [head, ...body].map((r) => r.map((c) => c.replaceAll('|', '\\|')));
  const widths = head.map((_, i) => Math.max(3, ...rows.map((r) => r[i]!.length)));
  const line = (cells: Cell[]) =>
    `| ${cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  const sep = `| ${widths.map((w, i) => (right.has(i) ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(rows[0]!), sep, ...rows.slice(1).map(line)].join('\n');
}

const MEM_HEAD = [
  'variant',
  'sessions',
  'ops/s',
  'retained after run',
  'allocated/session',
  'peak heap growth',
  'note',
];
const MEM_RIGHT = new Set([1, 2, 3, 4, 5]);

function kib(bytes: number): string {
  return Math.abs(bytes) >= 1024 * 1024
    ? `${(bytes / 1024 / 1024).toFixed(1)} MiB`
    : `${(bytes / 1024).toFixed(0)} KiB`;
}

function memCells(row: MemoryRow): Cell[] {
  return [
    row.name,
    int(row.sessions),
    int(row.opsPerSec),
    kib(row.retainedBytes),
    `${(row.allocatedPerSession / 1024).toFixed(1)} KiB`,
    kib(row.peakBytes),
    row.note ?? '',
  ];
}

export interface Section {
  readonly dialect: string;
  readonly version: string;
  /** Checkout pings sent by the factories with prePing on, and the checkouts they made. */
  readonly pings?: { readonly sent: number };
  readonly rows: readonly Row[];
  readonly memory: readonly MemoryRow[];
}

function groups(rows: readonly Row[]): [string, Row[]][] {
  const out = new Map<string, Row[]>();
  for (const row of rows) out.set(row.group, [...(out.get(row.group) ?? []), row]);
  return [...out];
}

export function renderText(section: Section): string {
  const parts = [`\n== ${section.dialect}: ${section.version} ==`];
  for (const [group, rows] of groups(section.rows)) {
    parts.push(`\n ${group}`, textTable(SPEED_HEAD, rows.map(speedCells), RIGHT));
  }
  if (section.memory.length > 0) {
    parts.push(
      '\n memory: heap after sequential small-transaction sessions',
      textTable(MEM_HEAD, section.memory.map(memCells), MEM_RIGHT),
    );
  }
  return parts.join('\n');
}

export function renderMarkdown(section: Section): string {
  const parts = [`## ${section.dialect}`, '', section.version];
  for (const [group, rows] of groups(section.rows)) {
    parts.push('', `### ${group}`, '', mdTable(SPEED_HEAD, rows.map(speedCells), RIGHT));
  }
  if (section.memory.length > 0) {
    parts.push(
      '',
      '### memory: heap after sequential small-transaction sessions',
      '',
      mdTable(MEM_HEAD, section.memory.map(memCells), MEM_RIGHT),
    );
  }
  return parts.join('\n');
}

/** One target of the bench and how the last run did on it. */
export interface TargetLine {
  readonly status: 'PASS' | 'WARN';
  /** Where the target comes from, e.g. `issue 12` or `in-process`. */
  readonly source: string;
  readonly dialect: string;
  /** The group, e.g. `unit of work, C=16`. */
  readonly scope: string;
  readonly row: string;
  /** e.g. `>= 0.90x raw` */
  readonly target: string;
  readonly measured: string;
}

const TARGET_HEAD = ['result', 'from', 'database', 'group', 'row', 'target', 'measured'];

/** The targets of the in-process groups (the rows that carry one). */
export function inProcessTargets(sections: readonly Section[]): TargetLine[] {
  return sections.flatMap((section) =>
    section.rows.flatMap((row): TargetLine[] =>
      row.status
        ? [
            {
              status: row.status,
              source: 'in-process',
              dialect: section.dialect,
              scope: row.group.split(' (')[0]!,
              row: row.name,
              target: `${row.target} ${row.baseline}`,
              measured: `${row.ratio!.toFixed(2)}x`,
            },
          ]
        : [],
    ),
  );
}

const targetCells = (t: TargetLine): Cell[] => [t.status, t.source, t.dialect, t.scope, t.row, t.target, t.measured];

/** The target table, as text for the console or as Markdown. */
export function renderTargets(lines: readonly TargetLine[], markdown: boolean): string {
  const body = lines.map(targetCells);
  return markdown ? mdTable(TARGET_HEAD, body, new Set()) : textTable(TARGET_HEAD, body, new Set());
}

/** prePing's cost per checkout, from the rows that differ only in it. */
export function prePingSummary(sections: readonly Section[]): string[] {
  const lines: string[] = [];
  for (const section of sections) {
    const probe = section.rows.find((r) => r.name === 'adapter connection.ping()');
    if (probe || section.pings) {
      lines.push(
        `${section.dialect.padEnd(8)} one checkout ping costs ${probe ? `${us(1e6 / probe.opsPerSec)} µs (${us(probe.cpuUs)} µs CPU)` : '?'}; pings actually sent during the whole run: ${section.pings?.sent ?? '?'}`,
      );
    }
    for (const [group, rows] of groups(section.rows)) {
      for (const off of rows.filter((r) => r.name.endsWith(', prePing off'))) {
        const on = rows.find((r) => r.name === off.name.replace(', prePing off', ''));
        if (!on) continue;
        const cost = paired(on.samples, off.samples).overheadUs;
        const base =
          off.ratio === undefined ? '' : ` (${off.ratio.toFixed(2)}x raw without it, ${on.ratio!.toFixed(2)}x with it)`;
        lines.push(
          `${section.dialect.padEnd(8)} ${group.split(/[:(]/)[0]!.trim()}, ${on.name}: prePing costs ${signed(cost)} µs/op, ${int(off.opsPerSec)} -> ${int(on.opsPerSec)} ops/s${base}`,
        );
      }
    }
  }
  return lines;
}
