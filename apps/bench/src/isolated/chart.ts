import type { TargetLine } from '../report.js';
import { groupTitle } from './report.js';
import type { IsoRow } from './run.js';
import type { Role } from './variants.js';

/**
 * The one-process-per-variant results as an SVG, written by hand (no chart library): for each
 * (database, workload, concurrency) group, one horizontal bar per variant with its median ratio
 * to the raw driver, a whisker from the lowest to the highest round, a solid line at 1.0x (the
 * raw driver) and a dashed red mark at each row's target.
 */

const COLOURS: Record<Role, string> = { raw: '#6b7280', sf: '#2563eb', kysely: '#d97706', knex: '#7c3aed' };
const ROLE_NAMES: Record<Role, string> = {
  raw: 'raw driver',
  sf: '@sessionfactory',
  kysely: 'Kysely (own transaction)',
  knex: 'Knex (own transaction)',
};
const PASS = '#15803d';
const WARN = '#b91c1c';

const WIDTH = 1000;
const LABEL_W = 270;
const PLOT_X = LABEL_W + 10;
const PLOT_W = 480;
const BAR_H = 18;
const BAR_GAP = 7;
const GROUP_HEAD = 50;
/** The axis ends at 2.0x at most; a longer bar or whisker is cut there and marked with an arrow. */
const AXIS_CAP = 2;
const GROUP_GAP = 18;
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export interface ChartInfo {
  readonly title: string;
  /** One line under the title: node, CPU, load, rounds. */
  readonly subtitle: string;
}

/** The minimum ratio a target line asks for (`>= 0.90x raw`), if it is that kind. */
const minOf = (t: TargetLine) => {
  const m = /^>= ([\d.]+)x raw/.exec(t.target)?.[1];
  return m === undefined ? undefined : Number(m);
};

/** Renders the chart; `targets` colour the value labels and place the target marks. */
export function renderChart(rows: readonly IsoRow[], targets: readonly TargetLine[], info: ChartInfo): string {
  const groups = [...new Set(rows.map((r) => r.group))];
  const highest = Math.max(1.1, ...rows.map((r) => r.ratio ?? 0).filter((v) => !Number.isNaN(v)));
  const xMax = Math.min(AXIS_CAP, Math.ceil(highest * 1.05 * 10) / 10);
  const x = (ratio: number) => PLOT_X + (Math.min(ratio, xMax) / xMax) * PLOT_W;
  const boxes: string[] = [];
  const marks: string[] = [];
  const plotTop = 104;
  let y = plotTop;

  for (const group of groups) {
    const members = rows.filter((r) => r.group === group);
    const base = members.find((r) => r.ratio === undefined);
    const bars = members.filter((r) => r.ratio !== undefined);
    const scope = `${group.workload}, C=${group.concurrency}`;
    const targetsOf = (name: string) =>
      targets.filter((t) => t.dialect === group.dialect && t.scope === scope && t.row === name);
    const boxH = GROUP_HEAD - 4 + bars.length * (BAR_H + BAR_GAP) + 4;
    boxes.push(`<rect x="8" y="${y}" width="${WIDTH - 16}" height="${boxH}" rx="6" fill="#f8fafc" stroke="#e5e7eb"/>`);
    marks.push(
      `<text x="18" y="${y + 21}" font-size="15" font-weight="700" fill="#111827">${esc(groupTitle(group))}</text>`,
    );
    if (base) {
      const text = `raw: ${Math.round(base.opsPerSec).toLocaleString('en-US')} ops/s, ${base.cpuUs.toFixed(0)} µs CPU/op`;
      marks.push(
        `<text x="${WIDTH - 18}" y="${y + 21}" font-size="12" fill="#4b5563" text-anchor="end">${esc(text)}</text>`,
      );
    }
    const barsTop = y + GROUP_HEAD - 4;
    // A target for the whole group (issue 12: 0.90x): a dashed line across it, labelled above the bars.
    if (group.targetLine !== undefined) {
      const tx = x(group.targetLine).toFixed(1);
      marks.push(
        `<path d="M${tx} ${barsTop - 6}V${y + boxH - 2}" stroke="${WARN}" stroke-width="2" stroke-dasharray="5 3"/>`,
        `<text x="${tx}" y="${barsTop - 9}" font-size="11" font-weight="700" fill="${WARN}" text-anchor="end">target ${group.targetLine.toFixed(2)}x </text>`,
      );
    }
    y = barsTop;
    for (const row of bars) {
      const ratio = row.ratio!;
      const mid = y + BAR_H / 2;
      const measured = !Number.isNaN(ratio);
      const own = targetsOf(row.variant.name);
      marks.push(
        `<text x="${LABEL_W}" y="${mid + 4.5}" font-size="13" fill="#111827" text-anchor="end">${esc(row.variant.name)}</text>`,
      );
      if (measured) {
        marks.push(
          `<rect class="bar" x="${PLOT_X}" y="${y}" width="${Math.max(1, x(ratio) - PLOT_X).toFixed(1)}" height="${BAR_H}" rx="2" fill="${COLOURS[row.variant.role]}"/>`,
        );
        if (row.ratios.length > 1) {
          const lo = x(Math.min(...row.ratios)).toFixed(1);
          const top = Math.max(...row.ratios);
          const hi = x(top).toFixed(1);
          const cap = top > xMax ? `M${hi} ${mid}l-6 -4M${hi} ${mid}l-6 4` : `M${hi} ${mid - 4}v8`;
          marks.push(
            `<path d="M${lo} ${mid}H${hi}M${lo} ${mid - 4}v8${cap}" stroke="#111827" stroke-width="1.2" fill="none" opacity="0.8"/>`,
          );
        }
      }
      // Rows with targets of their own (SQLite): a dashed mark across just that bar.
      if (group.targetLine === undefined) {
        for (const min of own.map(minOf).filter((m) => m !== undefined)) {
          const tx = x(min).toFixed(1);
          marks.push(
            `<path d="M${tx} ${y - 3}V${y + BAR_H + 3}" stroke="${WARN}" stroke-width="2.5" stroke-dasharray="3 2"/>`,
          );
        }
      }
      const status = own.length ? (own.every((t) => t.status === 'PASS') ? 'PASS' : 'WARN') : undefined;
      const colour = status === 'WARN' ? WARN : status === 'PASS' ? PASS : '#111827';
      const valueX = PLOT_X + PLOT_W + 12;
      marks.push(
        `<text x="${valueX}" y="${mid + 5}" font-size="14" font-weight="700" fill="${colour}">${measured ? `${ratio.toFixed(2)}x` : 'failed'}${status ? ` ${status}` : ''}</text>`,
      );
      if (!Number.isNaN(row.cpuUs)) {
        marks.push(
          `<text x="${valueX + (status ? 104 : 50)}" y="${mid + 4.5}" font-size="11.5" fill="#6b7280">${row.cpuUs.toFixed(0)} µs CPU</text>`,
        );
      }
      y += BAR_H + BAR_GAP;
    }
    y += 8 + GROUP_GAP;
  }
  const plotBottom = y - GROUP_GAP;

  // Grid and axis under the bars; the 1.0x line (the raw driver) over the boxes.
  const grid: string[] = [];
  for (let tenth = 0; tenth <= Math.round(xMax * 10); tenth++) {
    const t = tenth / 10;
    const major = xMax <= 1.4 || tenth % 2 === 0;
    grid.push(
      `<path d="M${x(t).toFixed(1)} ${plotTop}V${plotBottom}" stroke="#d1d5db" stroke-width="${major ? 1 : 0.5}"/>`,
    );
    if (major) {
      grid.push(
        `<text x="${x(t).toFixed(1)}" y="${plotBottom + 16}" font-size="11" fill="#6b7280" text-anchor="middle">${t.toFixed(1)}x</text>`,
      );
    }
  }
  grid.push(
    `<path d="M${x(1).toFixed(1)} ${plotTop - 8}V${plotBottom}" stroke="#111827" stroke-width="1.6"/>`,
    `<text x="${x(1).toFixed(1)}" y="${plotTop - 12}" font-size="12" font-weight="700" fill="#111827" text-anchor="middle">raw driver = 1.0x</text>`,
  );

  const legendY = 72;
  const legend: string[] = [];
  let lx = 18;
  for (const role of ['sf', 'kysely', 'knex'] as const) {
    legend.push(
      `<rect x="${lx}" y="${legendY - 10}" width="12" height="12" rx="2" fill="${COLOURS[role]}"/>`,
      `<text x="${lx + 17}" y="${legendY}" font-size="12" fill="#374151">${esc(ROLE_NAMES[role])}</text>`,
    );
    lx += 34 + ROLE_NAMES[role].length * 6.6;
  }
  legend.push(
    `<path d="M${lx + 4} ${legendY - 11}V${legendY + 3}" stroke="${WARN}" stroke-width="2.5" stroke-dasharray="3 2"/>`,
    `<text x="${lx + 12}" y="${legendY}" font-size="12" fill="#374151">target</text>`,
    `<path d="M${lx + 66} ${legendY - 4}H${lx + 92}M${lx + 66} ${legendY - 8}v8M${lx + 92} ${legendY - 8}v8" stroke="#111827" stroke-width="1.2"/>`,
    `<text x="${lx + 98}" y="${legendY}" font-size="12" fill="#374151">lowest .. highest round</text>`,
  );

  const height = plotBottom + 30;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ${FONT} role="img">`,
    `<title>${esc(info.title)}</title>`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="18" y="28" font-size="18" font-weight="700" fill="#111827">${esc(info.title)}</text>`,
    `<text x="18" y="48" font-size="12" fill="#4b5563">${esc(info.subtitle)}</text>`,
    ...legend,
    ...boxes,
    ...grid,
    ...marks,
    '</svg>',
    '',
  ].join('\n');
}
