/** The start-up section of the report: medians per kind, ratios to the baselines, the issue's targets. */
import type { StartupKind, StartupRun, StartupSample } from './startup.js';

export interface StartupSection {
  runs: number;
  idleMs: number;
  /** 1-, 5-, 15-minute load average just before and after the section. */
  loadAverageBefore: number[];
  loadAverageAfter: number[];
  results: StartupRun[];
}

const LABELS: Record<StartupKind, string> = {
  node: '`node -e 0` (to exit)',
  'bare-cold': 'bare PGlite + listen, new dir (`loadDataDir` of the template)',
  'server-cold': '**server, new data dir (cold)**',
  'bare-warm': 'bare PGlite + listen, existing dir',
  'server-warm': '**server, existing data dir (warm)**',
  embedding: 'embedding example (to exit)',
};

/** Which baseline a kind is divided by in the "÷ bare" column. */
const BARE_OF: Partial<Record<StartupKind, StartupKind>> = { 'server-cold': 'bare-cold', 'server-warm': 'bare-warm' };

const MIB_PER_300_MB = 300e6 / 2 ** 20;

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const pick = (samples: readonly StartupSample[], key: keyof StartupSample) =>
  samples.map((s) => s[key]).filter((v): v is number => typeof v === 'number');

export function startupMedians(run: StartupRun | undefined) {
  const samples = run?.samples ?? [];
  return {
    readyMs: median(pick(samples, 'readyMs')),
    minMs: Math.min(...pick(samples, 'readyMs')),
    maxMs: Math.max(...pick(samples, 'readyMs')),
    peakRssMiB: median(pick(samples, 'peakRssMiB')),
    idleRssMiB: median(pick(samples, 'idleRssMiB')),
  };
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '–');
const times = (a: number, b: number) => (Number.isFinite(a) && b > 0 ? `${(a / b).toFixed(2)}×` : '–');

export function startupTable(results: readonly StartupRun[]): string {
  const byKind = new Map(results.map((r) => [r.kind, startupMedians(r)]));
  const nodeMs = byKind.get('node')?.readyMs ?? Number.NaN;
  const head = ['what', 'ready ms, median (min–max)', '÷ `node -e 0`', '÷ bare PGlite', 'peak RSS MiB', 'idle RSS MiB'];
  const rows = results.map((r) => {
    const m = byKind.get(r.kind) ?? startupMedians(undefined);
    const bare = BARE_OF[r.kind];
    return [
      LABELS[r.kind],
      `${fmt(m.readyMs)} (${fmt(m.minMs)}–${fmt(m.maxMs)})`,
      r.kind === 'node' ? '1.00×' : times(m.readyMs, nodeMs),
      bare ? times(m.readyMs, byKind.get(bare)?.readyMs ?? Number.NaN) : '',
      fmt(m.peakRssMiB),
      fmt(m.idleRssMiB),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(head), rule, ...rows.map(line)].join('\n');
}

/** The targets of issue 7, checked against the medians of this run. */
export function startupTargets(results: readonly StartupRun[]): string[] {
  const m = (kind: StartupKind) => startupMedians(results.find((r) => r.kind === kind));
  const cold = m('server-cold').readyMs;
  const warm = m('server-warm').readyMs;
  const bareWarm = m('bare-warm').readyMs;
  const idle = Math.max(m('server-cold').idleRssMiB, m('server-warm').idleRssMiB);
  const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');
  return [
    `- cold start ≤ 3 s: ${fmt(cold)} ms, ${verdict(cold <= 3000)}`,
    `- warm start ≤ 1 s, or ≤ 1.3× the bare PGlite open where that alone costs more: ${fmt(warm)} ms, ` +
      `${times(warm, bareWarm)} bare, ${verdict(warm <= 1000 || warm <= 1.3 * bareWarm)}`,
    `- idle RSS ≤ 300 MB (${fmt(MIB_PER_300_MB)} MiB): ${fmt(idle)} MiB (higher of cold and warm), ${verdict(idle <= MIB_PER_300_MB)}`,
  ];
}

export function renderStartup(section: StartupSection): string[] {
  const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(' ');
  return [
    '## Start-up and memory (new process each time; medians of runs)',
    '',
    `${section.runs} runs of each, interleaved; idle RSS read ${section.idleMs / 1000} s after ready; ` +
      `load average before ${load(section.loadAverageBefore)}, after ${load(section.loadAverageAfter)}.`,
    '',
    startupTable(section.results),
    '',
    'server = `node packages/server/dist/bundle/main.js serve` (the bundled CLI `npm start` runs, embedded PGlite), spawn → first `/healthz` 200. ' +
      'bare PGlite = bench/startup-bare-pglite.mjs: PGlite on the same kind of directory with the same start ' +
      'parameters (new dir: PGlite loads the template itself with `loadDataDir`), `select 1` per request over node:http. Embedding example = the first ```ts block of ' +
      'docs/embedding.md, type-stripped, run with plain node (DATABASE_URL = a new empty PostgreSQL database, ' +
      'cwd = a new empty directory).',
    '',
    ...startupTargets(section.results),
    '',
  ];
}
