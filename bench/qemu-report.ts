/** The QEMU section of the report: medians and p90 of each kind, ratios to the bare baselines. */
import type { QemuSection } from './qemu.js';
import { median } from './startup-report.js';

/** Nearest-rank p90 (with 5 runs: the slowest). */
export function p90(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? (sorted[Math.ceil(0.9 * sorted.length) - 1] as number) : Number.NaN;
}

const fmt = (n: number) => (Number.isFinite(n) ? (n < 100 ? n.toFixed(1) : n.toFixed(0)) : '–');
const cell = (values: readonly number[]) => `${fmt(median(values))} / ${fmt(p90(values))}`;
const times = (a: readonly number[], b: readonly number[]) => {
  const r = median(a) / median(b);
  return Number.isFinite(r) ? `${r.toFixed(2)}×` : '–';
};
const sum = (a: readonly number[], b: readonly number[]) => a.map((v, i) => v + (b[i] ?? Number.NaN));

function table(head: string[], rows: string[][], leftColumns: number): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const pad = (c: string, i: number) => (i < leftColumns ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0));
  const line = (cells: string[]) => `| ${cells.map(pad).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i < leftColumns ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(head), rule, ...rows.map(line)].join('\n');
}

export function allocateTable(s: QemuSection): string {
  const { returnedMs, readyMs } = s.allocate;
  const { greetingMs, readyMs: bareReadyMs, hostToolsMs } = s.bare;
  const plus = (a: readonly number[]) => [median(a) + median(hostToolsMs)];
  return table(
    ['what', 'median / p90 ms', 'baseline', '÷ baseline', '÷ baseline + C'],
    [
      [
        '**plugin `allocate` returned** (seed, overlay, spawn, QMP, `cont`)',
        cell(returnedMs),
        'A',
        times(returnedMs, greetingMs),
        times(returnedMs, plus(greetingMs)),
      ],
      [
        '**plugin `allocate` → GUEST-READY**',
        cell(readyMs),
        'B',
        times(readyMs, bareReadyMs),
        times(readyMs, plus(bareReadyMs)),
      ],
      ['A: bare spawn → QMP greeting (`-S`)', cell(greetingMs), '', '', ''],
      ['B: bare spawn → GUEST-READY', cell(bareReadyMs), '', '', ''],
      ['C: host tools alone (`qemu-img` info + overlay, `cloud-localds`)', cell(hostToolsMs), '', '', ''],
    ],
    1,
  );
}

export function hotplugTable(s: QemuSection): string {
  const rows = (['disk', 'nic'] as const).flatMap((kind) => {
    const { plugin, raw } = s.hotplug[kind];
    const steps: [string, number[], number[]][] = [
      ['attach', plugin.attachMs, raw.attachMs],
      ['detach', plugin.detachMs, raw.detachMs],
      ['attach + detach', sum(plugin.attachMs, plugin.detachMs), sum(raw.attachMs, raw.detachMs)],
    ];
    return steps.map(([step, p, r]) => [kind === 'disk' ? 'disk' : 'NIC', step, cell(p), cell(r), times(p, r)]);
  });
  return table(['device', 'step', 'plugin median / p90 ms', 'raw QMP median / p90 ms', 'plugin ÷ raw'], rows, 2);
}

export function renderQemu(s: QemuSection | null, skipped: string | null): string[] {
  if (!s) return skipped ? ['## QEMU', '', `Skipped: ${skipped}.`, ''] : [];
  const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(' ');
  return [
    '## QEMU: allocate-to-ready and attach/detach (medians and p90 of runs)',
    '',
    `${s.runs} runs of each, interleaved; ${s.qemuVersion}; load average before ${load(s.loadAverageBefore)}, ` +
      `after ${load(s.loadAverageAfter)}.`,
    '',
    allocateTable(s),
    '',
    'plugin = `RuntimeProvisioner.allocate` of @slipway/core around `qemuProvisioner` (store: the SQL provisioner ' +
      'store on PGlite; watcher running), 1 vCPU, 256 MB, the test guest. A and B run the same QEMU command line ' +
      '(read from the plugin VM’s /proc/<pid>/cmdline): A paused with `-S` until the greeting on the QMP socket, ' +
      `B without \`-S\` until GUEST-READY on the serial log; C = the host programs allocate runs before QEMU, ` +
      `on their own. "÷ baseline + C" divides by the sum of the two medians. Plugin release (ACPI power-off, ` +
      `not in a ratio): ${cell(s.allocate.releaseMs)} ms.`,
    '',
    hotplugTable(s),
    '',
    'plugin = `RuntimeProvisioner.attach` / `.detach` on a running guest; raw QMP = the same commands from a ' +
      'minimal hand-written client on a bare socket to a bare QEMU with the same command line: `qemu-img create` ' +
      '(disk), `blockdev-add` ×2 / `netdev_add`, `device_add`; `device_del`, the device’s DEVICE_DELETED, ' +
      '`blockdev-del` ×2 / `netdev_del`, the disk file removed. Untimed between steps: the guest seeing the device ' +
      'appear or go.',
    '',
  ];
}
