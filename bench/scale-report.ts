/** The scale section as markdown: reads by size, and createResource with where its time goes. */
import type { ScaleSection } from './scale.js';

const ms = (n: number | undefined) =>
  n === undefined || !Number.isFinite(n) ? '–' : n < 10 ? n.toFixed(2) : n.toFixed(1);
const size = (n: number) => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n));

export function renderScale(s: ScaleSection): string[] {
  const sizes = s.sizes.map(size);
  const out = [
    `## Scale: reads and createResource as the tables grow (${sizes.join(' → ')} resources)`,
    '',
    `Seeded by SQL (1,000 users, one with 10%; ~5 events per resource; seeding took ${s.seedSeconds.map((x) => `${x.toFixed(0)} s`).join(', ')}). ` +
      `Ledger invariants at every size: ${s.invariantProblems.length === 0 ? 'OK' : `VIOLATED (${s.invariantProblems.slice(0, 3).join('; ')})`}. ` +
      `Reads through the core as a resolver calls it; ms, median (p95) of ${s.reps}.`,
    '',
    `| read | ${sizes.join(' | ')} |`,
    `|---|${sizes.map(() => '---:').join('|')}|`,
    ...s.reads.map(
      (r) => `| ${r.name} | ${s.sizes.map((_, i) => `${ms(r.p50Ms[i])} (${ms(r.p95Ms[i])})`).join(' | ')} |`,
    ),
    '',
    `| MB on disk (with indexes) | ${sizes.join(' | ')} |`,
    `|---|${sizes.map(() => '---:').join('|')}|`,
    ...Object.entries(s.megabytes).map(([t, mb]) => `| ${t} | ${s.sizes.map((_, i) => ms(mb[i])).join(' | ')} |`),
    '',
    `| createResource (core, 1 client) | ${sizes.join(' | ')} |`,
    `|---|${sizes.map(() => '---:').join('|')}|`,
    `| creates/s | ${s.creates.map((c) => c.opsPerSecond.toFixed(0)).join(' | ')} |`,
    `| p50 / p99 ms | ${s.creates.map((c) => `${ms(c.p50Ms)} / ${ms(c.p99Ms)}`).join(' | ')} |`,
    `| shared-buffer blocks per create (of them read in) | ${s.creates.map((c) => `${c.blocksPerOp.toFixed(0)} (${c.readsPerOp.toFixed(1)})`).join(' | ')} |`,
    `| p50 ÷ p50 at ${sizes[0]} | ${s.creates.map((c) => (c.p50Ms / (s.creates[0]?.p50Ms ?? c.p50Ms)).toFixed(2)).join(' | ')} |`,
    '',
    'Where the database time goes while creating (ms per create, statements per create, by statement; ' +
      'everything the app ran in the window, its job runner and sweeps included, so it may add up to more than a create):',
    '',
    `| statement | ${sizes.join(' | ')} |`,
    `|---|${sizes.map(() => '---:').join('|')}|`,
  ];
  const keys = [...new Set(s.creates.flatMap((c) => c.statements.slice(0, 12).map((st) => st.key)))];
  for (const key of keys) {
    const cells = s.creates.map((c) => {
      const st = c.statements.find((x) => x.key === key);
      return st ? `${ms(st.msPerOp)} (×${st.perOp.toFixed(1)})` : '–';
    });
    out.push(`| \`${key}\` | ${cells.join(' | ')} |`);
  }
  out.push(
    `| all statements | ${s.creates.map((c) => ms(c.statements.reduce((t, st) => t + st.msPerOp, 0))).join(' | ')} |`,
    '',
  );
  return out;
}
