/** Markdown tables for the terminal and docs; the same data as JSON for tools. */
import type { CreateResourceRun } from './create-resource.js';
import type { InvariantReport } from './database.js';
import type { LoadResult } from './load.js';
import type { PeerRow } from './peers.js';
import { renderPeers } from './peers-report.js';
import type { PgbenchMode, PgbenchResult } from './pgbench.js';
import type { QemuSection } from './qemu.js';
import { renderQemu } from './qemu-report.js';
import { renderStartup, type StartupSection } from './startup-report.js';

export interface AdmissionRow {
  wallets: number;
  concurrency: number;
  core: LoadResult;
  pgbench: Partial<Record<PgbenchMode, PgbenchResult>>;
}

export interface Environment {
  date: string;
  commit: string | null;
  node: string;
  cpus: number;
  cpuModel: string;
  loadAverageBefore: number[];
  loadAverageAfter: number[];
  postgres: { version: string; settings: Record<string, string> } | null;
  pgbench: string | null;
  seconds: number;
  warmupSeconds: number;
}

export interface BenchReport {
  environment: Environment;
  admission: AdmissionRow[];
  invariants: InvariantReport | null;
  /** Our hold beside Coder's and Nova's admission (pgbench, 32 clients). */
  peers: PeerRow[];
  createResource: CreateResourceRun[];
  /** pgbench running the minimal create (minimal-create.ts) per concurrency: createResource's limit. */
  minimalCreate: Array<{ concurrency: number; result: PgbenchResult }>;
  startup: StartupSection | null;
  qemu: QemuSection | null;
  /** Why the QEMU section did not run in a default run. */
  qemuSkipped: string | null;
}

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
const ms = (n: number) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n.toFixed(1)) : '–');
const ratio = (a: number, b: number | undefined) =>
  b !== undefined && b > 0 && Number.isFinite(a) ? `${(a / b).toFixed(2)}` : '–';
const walletsLabel = (n: number) => (n === 1 ? '1 (hot)' : int(n));

export function admissionTable(rows: readonly AdmissionRow[]): string {
  const hasExtended = rows.some((r) => r.pgbench.extended);
  const head = [
    'wallets',
    'clients',
    'core ops/s',
    'core p50 / p99 ms',
    'pgbench prepared tps',
    'pgbench p50 / p99 ms',
    'core ÷ prepared',
    ...(hasExtended ? ['pgbench extended tps', 'core ÷ extended'] : []),
  ];
  const lines = rows.map((r) => {
    const p = r.pgbench.prepared;
    const e = r.pgbench.extended;
    return [
      walletsLabel(r.wallets),
      String(r.concurrency),
      int(r.core.opsPerSecond),
      `${ms(r.core.p50Ms)} / ${ms(r.core.p99Ms)}`,
      p ? int(p.tps) : '–',
      p ? `${ms(p.p50Ms)} / ${ms(p.p99Ms)}` : '–',
      ratio(r.core.opsPerSecond, p?.tps),
      ...(hasExtended ? [e ? int(e.tps) : '–', ratio(r.core.opsPerSecond, e?.tps)] : []),
    ];
  });
  return markdownTable(head, lines);
}

export function createResourceTable(
  runs: readonly CreateResourceRun[],
  minimal: BenchReport['minimalCreate'] = [],
): string {
  const hasMinimal = minimal.length > 0;
  const keys = [...new Set(runs.map((r) => `${r.engine}|${r.concurrency}`))];
  const head = [
    'engine',
    'clients',
    'core creates/s',
    'core p50 / p99 ms',
    'GraphQL creates/s',
    'GraphQL p50 / p99 ms',
    'GraphQL ÷ core',
    ...(hasMinimal ? ['pgbench minimal create tps', 'core ÷ minimal'] : []),
  ];
  const lines = keys.map((key) => {
    const [engine = '', c = ''] = key.split('|');
    const find = (path: string) =>
      runs.find((r) => r.engine === engine && String(r.concurrency) === c && r.path === path);
    const core = find('core')?.result;
    const gql = find('graphql')?.result;
    return [
      engine === 'pglite' ? 'PGlite (embedded)' : 'PostgreSQL',
      c,
      core ? `${int(core.opsPerSecond)}${core.exhausted ? '†' : ''}` : '–',
      core ? `${ms(core.p50Ms)} / ${ms(core.p99Ms)}` : '–',
      gql ? `${int(gql.opsPerSecond)}${gql.exhausted ? '†' : ''}` : '–',
      gql ? `${ms(gql.p50Ms)} / ${ms(gql.p99Ms)}` : '–',
      gql && core ? ratio(gql.opsPerSecond, core.opsPerSecond) : '–',
      ...(hasMinimal ? minimalCells(engine, c, core, minimal) : []),
    ];
  });
  return markdownTable(head, lines);
}

function minimalCells(
  engine: string,
  clients: string,
  core: LoadResult | undefined,
  minimal: BenchReport['minimalCreate'],
): string[] {
  const m = engine === 'postgres' ? minimal.find((r) => String(r.concurrency) === clients) : undefined;
  return m ? [int(m.result.tps), core ? ratio(core.opsPerSecond, m.result.tps) : '–'] : ['–', '–'];
}

export function renderMarkdown(report: BenchReport): string {
  const env = report.environment;
  const out: string[] = [`# Slipway benchmark, ${env.date}`, ''];
  const pgSettings = env.postgres
    ? Object.entries(env.postgres.settings)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')
    : '';
  out.push(
    `- machine: ${env.cpus} × ${env.cpuModel}; load average before ${fmtLoad(env.loadAverageBefore)}, after ${fmtLoad(env.loadAverageAfter)}`,
    `- Node ${env.node}${env.commit ? `; commit ${env.commit.slice(0, 12)}` : ''}`,
    ...(env.postgres ? [`- PostgreSQL ${env.postgres.version} (${pgSettings})`] : []),
    ...(env.pgbench ? [`- ${env.pgbench}`] : []),
    ...(report.admission.length > 0 || report.createResource.length > 0
      ? [
          `- ${env.seconds} s measured per cell and engine after ${env.warmupSeconds} s warm-up; admission cells run ` +
            'core, pgbench prepared, pgbench extended, then the same in reverse, each for half the time; ' +
            'createResource runs core, GraphQL, GraphQL, core the same way',
        ]
      : []),
    '',
  );
  const busiest = Math.max(env.loadAverageBefore[0] ?? 0, env.loadAverageAfter[0] ?? 0);
  if (busiest > env.cpus) {
    out.push(
      `**Warning:** the machine was busy (1-minute load average up to ${busiest.toFixed(1)} on ${env.cpus} cores) with ` +
        'work other than this benchmark: numbers are lower and noisier than on an idle machine. ' +
        'Rerun on a quiet machine before quoting them.',
      '',
    );
  }
  if (report.startup) out.push(...renderStartup(report.startup));
  out.push(...renderQemu(report.qemu, report.qemuSkipped));
  if (report.admission.length > 0) {
    out.push(
      '## Admission: reserve → commit (ops/s; one op = two statements)',
      '',
      admissionTable(report.admission),
      '',
      'core = CreditLedger.reserve then CreditLedger.commit, one named statement each, on a pool of `clients`; ' +
        'pgbench = the same statements from C (`-M prepared`: named prepared statements; `-M extended`: unnamed ' +
        'statements like node-pg). Ratio = core ops/s ÷ pgbench tps: 1.00 means the core adds nothing.',
      '',
    );
  }
  out.push(...renderPeers(report.peers));
  if (report.invariants) {
    const i = report.invariants;
    const ok = i.balanceMismatches === 0 && i.heldMismatches === 0 && i.committed === i.charges;
    out.push(
      `Ledger invariants after the admission runs: ${ok ? 'OK' : 'VIOLATED'} — ${int(i.wallets)} wallets, ` +
        `${i.balanceMismatches} balance ≠ Σ entries, ${i.heldMismatches} held ≠ Σ pending, ` +
        `${int(i.committed)} committed reservations, ${int(i.charges)} charge entries.`,
      '',
    );
  }
  if (report.createResource.length > 0) {
    out.push(
      '## createResource, waiting for allocation (demo provisioner)',
      '',
      createResourceTable(report.createResource, report.minimalCreate),
      '',
      'Same app for both paths: core = `app.slipway.resources.create`, GraphQL = the `createResource` mutation ' +
        'through `app.yoga.fetch` with a bearer JWT. Each create waits for its allocation job. ' +
        'Ratio = GraphQL ÷ core: the share of core throughput left after the GraphQL layer. ' +
        'pgbench minimal create = the least a create writes (bench/minimal-create.ts), from C: the limit.',
      ...(report.createResource.some((r) => r.result.exhausted)
        ? ['† ran out of pre-funded accounts before the window ended: the rate is over the shorter window.']
        : []),
      '',
    );
  }
  return out.join('\n');
}

function fmtLoad(load: number[]): string {
  return load.map((l) => l.toFixed(2)).join(' ');
}

/** The first two columns (what was run) align left, the measurements right. */
function markdownTable(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const pad = (c: string, i: number) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0));
  const line = (cells: string[]) => `| ${cells.map(pad).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i < 2 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(head), rule, ...rows.map(line)].join('\n');
}
