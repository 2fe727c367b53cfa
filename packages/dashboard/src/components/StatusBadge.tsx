/** Status as a coloured dot with its name (the dot is decoration; the text carries the meaning). */
const TONE: Record<string, string> = {
  RUNNING: 'ok',
  PROVISIONING: 'busy',
  RELEASING: 'busy',
  STOPPED: 'idle',
  RELEASED: 'idle',
  EXPIRED: 'idle',
  UNKNOWN: 'warn',
  GONE: 'warn',
  FAILED: 'bad',
};

export function StatusBadge({ status }: { status: string }) {
  return (
    <span class={`status status-${TONE[status] ?? 'idle'}`} data-status={status}>
      <span class="dot" aria-hidden="true" />
      {status}
    </span>
  );
}
