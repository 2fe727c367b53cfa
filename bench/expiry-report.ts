/** The scale section of the report: resources expiring together, beside pgbench's claim/finish limit. */
import type { ExpiryResult } from './expiry.js';

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');

export function renderExpiry(e: ExpiryResult | null): string[] {
  if (!e) return [];
  const i = e.invariants;
  const ok = i.balanceMismatches === 0 && i.heldMismatches === 0;
  const limit = e.pgbench ? `${int(e.pgbench.jobsPerSecond)} jobs/s (${e.pgbench.clients} clients)` : '–';
  return [
    `## Scale: ${int(e.resources)} resources expiring together (demo provisioner, PostgreSQL)`,
    '',
    '| due → all EXPIRED | expiries/s | expiry lag p50 | expiry lag max | pgbench claim + finish (the limit) |',
    '|---:|---:|---:|---:|---:|',
    `| ${e.seconds.toFixed(1)} s | ${int(e.perSecond)} | ${(e.lagP50Ms / 1000).toFixed(1)} s | ${(e.lagMaxMs / 1000).toFixed(1)} s | ${limit} |`,
    '',
    `The app's own loop (\`start()\`): the sweep lease holder marks them RELEASING in batches every ` +
      `${e.sweepIntervalMs / 1000} s, the runner (${e.jobs.concurrency} slots, ${e.jobs.urgentSlots} kept for user work) ` +
      'releases them at background priority in `resource.expire` jobs of up to 50. Lag = expiresAt → EXPIRED per resource (includes waiting for the next ' +
      'sweep tick). pgbench = the runner’s claim and finish statements from C, one job per transaction, no handler: ' +
      'the rate jobs can go through the jobs table on this machine (a batch job carries up to 50 expiries).',
    '',
    `Ledger invariants after the expiry run: ${ok ? 'OK' : 'VIOLATED'} — ${int(i.wallets)} wallets, ` +
      `${i.balanceMismatches} balance ≠ Σ entries, ${i.heldMismatches} held ≠ Σ pending.`,
    '',
  ];
}
