/** The launch form's values and their translation into CreateResourceInput. */
import type { CreateInput } from './components/LaunchPage';

export interface LaunchForm {
  name: string;
  provisioner: string;
  image: string;
  vcpu: string;
  memoryMb: string;
  diskGb: string;
  ttlHours: string;
  /** `key=value`, comma separated. */
  labels: string;
  /** Provisioner options as JSON. */
  options: string;
}

export function toInput(f: LaunchForm): { input: CreateInput } | { problem: string } {
  const labels: Record<string, string> = {};
  for (const pair of f.labels
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [k, ...v] = pair.split('=');
    if (!k || v.length === 0) return { problem: `labels: "${pair}" is not key=value` };
    labels[k.trim()] = v.join('=').trim();
  }
  let options: unknown;
  if (f.options.trim()) {
    try {
      options = JSON.parse(f.options);
    } catch {
      return { problem: 'options: not valid JSON' };
    }
  }
  const ttl = Math.round(Number(f.ttlHours) * 3600);
  return {
    input: {
      name: f.name || 'quote',
      provisioner: f.provisioner,
      spec: {
        vcpu: Number(f.vcpu),
        memoryMb: Number(f.memoryMb),
        diskGb: Number(f.diskGb),
        ...(f.image ? { image: f.image } : {}),
      },
      ...(ttl > 0 ? { ttlSeconds: ttl } : {}),
      ...(Object.keys(labels).length ? { labels } : {}),
      ...(options !== undefined ? { options } : {}),
    },
  };
}
