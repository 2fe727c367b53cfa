/** How long the client waits, per kind of command. QEMU runs commands one after another, so a slow one delays the rest. */
export interface QmpTimeouts {
  /** Commands not listed elsewhere. Default 5 s: `qmp_capabilities` took 200 ms while QEMU loaded a kernel under TCG. */
  defaultMs: number;
  /** Commands in {@link slowCommands}. Default 30 s, as incus uses for device, block and netdev commands. */
  slowMs: number;
  /** Names that get `slowMs`; a trailing `*` matches a prefix. */
  slowCommands: readonly string[];
  /** Exact per-command overrides, winning over both of the above. */
  perCommand: Readonly<Record<string, number>>;
  /** Opening the socket (retried while QEMU creates it) plus greeting and `qmp_capabilities`. Default 10 s. */
  connectMs: number;
}

export const DEFAULT_SLOW_COMMANDS: readonly string[] = [
  'device_add',
  'device_del',
  'blockdev-*',
  'block_*',
  'netdev_add',
  'netdev_del',
  'cont',
  'stop',
  'system_reset',
];

export const DEFAULT_QMP_TIMEOUTS: QmpTimeouts = {
  defaultMs: 5_000,
  slowMs: 30_000,
  slowCommands: DEFAULT_SLOW_COMMANDS,
  perCommand: {},
  connectMs: 10_000,
};

export function resolveTimeouts(overrides: Partial<QmpTimeouts> = {}): QmpTimeouts {
  return { ...DEFAULT_QMP_TIMEOUTS, ...overrides };
}

/** The time-out a command gets when its caller does not pass one. */
export function commandTimeoutMs(timeouts: QmpTimeouts, command: string): number {
  const exact = timeouts.perCommand[command];
  if (exact !== undefined) return exact;
  const slow = timeouts.slowCommands.some((pattern) =>
    pattern.endsWith('*') ? command.startsWith(pattern.slice(0, -1)) : command === pattern,
  );
  return slow ? timeouts.slowMs : timeouts.defaultMs;
}
