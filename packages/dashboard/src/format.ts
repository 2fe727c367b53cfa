/** Formatting shared by the tables: credits, sizes, relative times (absolute on hover). */

export const credits = (n: number): string => `${n.toLocaleString('en-US')} cr`;

export const memory = (mb: number): string => (mb >= 1024 ? `${+(mb / 1024).toFixed(1)} GiB` : `${mb} MiB`);

export function relative(iso: string, now: number = Date.now()): string {
  const s = Math.round((new Date(iso).getTime() - now) / 1000);
  const abs = Math.abs(s);
  if (abs < 5) return 'just now';
  const [n, unit] =
    abs < 60 ? [abs, 's'] : abs < 3600 ? [abs / 60, 'm'] : abs < 86_400 ? [abs / 3600, 'h'] : [abs / 86_400, 'd'];
  const text = `${Math.floor(n)}${unit}`;
  return s >= 0 ? `in ${text}` : `${text} ago`;
}

export const absolute = (iso: string): string => new Date(iso).toLocaleString();

export const duration = (seconds: number): string =>
  seconds < 120
    ? `${seconds.toFixed(1)} s`
    : seconds < 7200
      ? `${(seconds / 60).toFixed(1)} min`
      : `${(seconds / 3600).toFixed(1)} h`;
