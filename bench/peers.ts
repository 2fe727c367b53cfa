/**
 * Our hold beside Coder's and Nova's admission (peer-scripts.ts), all three driven by
 * pgbench at the same concurrency on the same database: throughput with credits to spare,
 * then an overspend run where 32 clients race over 10 owners of 100 admissions each.
 */
import { CreditLedger } from '@slipway/core';
import { seedWallets, walletId } from './admission.js';
import type { BenchDatabase } from './database.js';
import { admittedSql, overspendSql, PEER_SCRIPTS, PEER_TABLES, PEERS, type Peer, PHASE } from './peer-scripts.js';
import { type PgbenchSegment, runPgbench, summarizePgbench } from './pgbench.js';

export const PEER_CONCURRENCY = 32;
export const PEER_WALLETS = 1000;
/** The overspend run: per peer its own owners base+1..base+10, each allowed 100 admissions of 10 credits. */
const RACE = { base: 100_000, owners: 10, allowance: 1_000, seconds: 3 } as const;
const raceBase = (peer: Peer) => RACE.base + 100 * PEERS.indexOf(peer);
const PLENTY = 1_000_000_000_000_000;

export interface PeerRow {
  peer: Peer;
  phase: 'admission' | 'cycle';
  tps: number;
  p50Ms: number;
  p99Ms: number;
  /** Owners over their allowance after the race (must be 0). */
  overspentOwners: number;
  /** Credits admitted in the race, of `allowedTotal`. */
  admitted: number;
  allowedTotal: number;
}

export async function benchPeers(
  db: BenchDatabase,
  pgbench: string,
  opts: { seconds: number; progress: (line: string) => void },
): Promise<PeerRow[]> {
  await preparePeers(db);
  const halves = [Math.ceil(opts.seconds / 2), Math.floor(opts.seconds / 2)];
  const order = [
    ...PEERS.map((p) => [p, halves[0]] as const),
    ...[...PEERS].reverse().map((p) => [p, halves[1]] as const),
  ];
  const segments = new Map<Peer, PgbenchSegment[]>();
  for (const [peer, seconds] of order) {
    if (!seconds) continue;
    await db.vacuum();
    const run = await runPgbench({
      pgbench,
      url: db.url,
      script: PEER_SCRIPTS[peer],
      vars: { base: 0, allowance: PLENTY },
      wallets: PEER_WALLETS,
      concurrency: PEER_CONCURRENCY,
      seconds,
      mode: 'prepared',
    });
    if (run.failed > 0) throw new Error(`pgbench ${peer} reported ${run.failed} failed transactions`);
    segments.set(peer, [...(segments.get(peer) ?? []), run]);
  }
  const rows: PeerRow[] = [];
  for (const peer of PEERS) {
    const result = summarizePgbench('prepared', segments.get(peer) ?? []);
    const race = await runPgbench({
      pgbench,
      url: db.url,
      script: PEER_SCRIPTS[peer],
      vars: { base: raceBase(peer), allowance: RACE.allowance },
      wallets: RACE.owners,
      concurrency: PEER_CONCURRENCY,
      seconds: RACE.seconds,
      mode: 'prepared',
    });
    if (race.failed > 0) throw new Error(`pgbench ${peer} (race) reported ${race.failed} failed transactions`);
    const [over] = await db.query<{ n: number }>(overspendSql(peer, raceBase(peer), RACE.owners, RACE.allowance));
    const [granted] = await db.query<{ n: string }>(admittedSql(peer, raceBase(peer), RACE.owners, RACE.allowance));
    const row: PeerRow = {
      peer,
      phase: PHASE[peer],
      tps: result.tps,
      p50Ms: result.p50Ms,
      p99Ms: result.p99Ms,
      overspentOwners: Number(over?.n ?? -1),
      admitted: Number(granted?.n ?? 0),
      allowedTotal: RACE.owners * RACE.allowance,
    };
    opts.progress(
      `peers ${peer} c=${PEER_CONCURRENCY}: ${row.tps.toFixed(0)} tps; race: ${row.admitted}/${row.allowedTotal} ` +
        `admitted, ${row.overspentOwners} owners over`,
    );
    rows.push(row);
  }
  return rows;
}

/** The peers' tables and owners; our wallets 1..1000 (plenty) and the race's (their allowance). */
async function preparePeers(db: BenchDatabase): Promise<void> {
  const [seeded] = await db.query<{ n: number }>(
    `select count(*)::int as n from wallets where account_id = '${walletId(PEER_WALLETS)}'`,
  );
  if (!seeded?.n) await seedWallets(db, PEER_WALLETS);
  await db.query(PEER_TABLES);
  const novaRaces = PEERS.filter((p) => p.startsWith('nova')).map(
    (p) => `union all select ${raceBase(p)} + g, ${RACE.allowance} from generate_series(1, ${RACE.owners}) g`,
  );
  await db.query(`insert into nova_quota_usages (project_id, hard_limit)
    select g, ${PLENTY} from generate_series(1, ${PEER_WALLETS}) g ${novaRaces.join(' ')}
    on conflict do nothing`);
  const storage = await db.open(2);
  const ledger = new CreditLedger();
  try {
    const owners = PEERS.filter((p) => p.startsWith('ours')).flatMap((p) =>
      Array.from({ length: RACE.owners }, (_, i) => walletId(raceBase(p) + i + 1)),
    );
    for (const id of owners) {
      await storage.db.transaction().execute(async (trx) => {
        await ledger.ensureAccount(trx, id);
        const w = await ledger.wallet(trx, id);
        if (w.balance === 0)
          await ledger.grant(trx, { accountId: id, amount: RACE.allowance, actorId: 'bench', note: 'race' });
      });
    }
  } finally {
    await storage.close();
  }
}
