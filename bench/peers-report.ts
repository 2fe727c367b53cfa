/** The peers table: our hold beside Coder's and Nova's admission (peers.ts). */
import type { PeerRow } from './peers.js';
import { PEER_CONCURRENCY, PEER_WALLETS } from './peers.js';

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
const ms = (n: number) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n.toFixed(1)) : '–');

const LABEL: Record<PeerRow['peer'], string> = {
  'ours-hold': 'Slipway hold',
  coder: 'Coder: advisory lock, Σ costs, insert',
  'nova-reserve': 'Nova quota reserve',
  ours: 'Slipway hold → commit',
  nova: 'Nova quota reserve → commit',
};

export function renderPeers(rows: readonly PeerRow[]): string[] {
  if (rows.length === 0) return [];
  const oursOf = (r: PeerRow) => rows.find((o) => o.phase === r.phase && o.peer.startsWith('ours'));
  const lines = rows.map((r) => [
    r.phase,
    LABEL[r.peer],
    int(r.tps),
    `${ms(r.p50Ms)} / ${ms(r.p99Ms)}`,
    r.tps > 0 && oursOf(r) ? `${((oursOf(r)?.tps ?? 0) / r.tps).toFixed(2)}×` : '–',
    `${int(r.admitted)} / ${int(r.allowedTotal)}`,
    String(r.overspentOwners),
  ]);
  const head = [
    'phase',
    'implementation',
    'tps',
    'p50 / p99 ms',
    'ours ÷ it',
    'race: credits admitted / allowed',
    'owners overspent',
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const row = (cells: string[]) =>
    `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i < 2 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  const beaten = rows.every((r) => r.peer.startsWith('ours') || (oursOf(r)?.tps ?? 0) > r.tps);
  const clean = rows.every((r) => r.overspentOwners === 0);
  return [
    `## Admission beside peers (pgbench -M prepared, ${PEER_CONCURRENCY} clients, ${int(PEER_WALLETS)} owners)`,
    '',
    [row(head), rule, ...lines.map(row)].join('\n'),
    '',
    "Each peer's admission re-implemented in SQL (bench/peer-scripts.ts) and driven by pgbench alike; " +
      'ours ÷ it compares like with like (the decision alone; the decision and its charge). ' +
      `Race: ${PEER_CONCURRENCY} clients on 10 owners allowed 100 admissions each, for 3 s (own owners per row). ` +
      `Our hold ${beaten ? 'beats' : 'does NOT beat'} every peer; overspend: ${clean ? 'none' : 'FOUND'}.`,
    '',
  ];
}
