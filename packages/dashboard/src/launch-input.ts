/** The launch form's values and their translation into CreateResourceInput, with the provisioner's catalog. */
import type { CreateInput } from './components/LaunchPage';

export interface LaunchForm {
  name: string;
  provisioner: string;
  /** A catalog image name (into `options[imageOption]`), or free text (`spec.image`) without a catalog. */
  image: string;
  /** A catalog size name (into `options[sizeOption]`, its shape into `spec`); '' for vCPU/RAM/disk of one's own. */
  size: string;
  vcpu: string;
  memoryMb: string;
  diskGb: string;
  ttlHours: string;
  /** `key=value`, comma separated. */
  labels: string;
  /** Provisioner options as JSON. */
  options: string;
}

/** The provisioner's catalog as the API answers `Provisioner.catalog`. */
export interface LaunchCatalog {
  imageOption: string | null;
  images: readonly { name: string; description: string | null; isDefault: boolean }[];
  sizeOption: string | null;
  sizes: readonly CatalogSize[];
  anySpec: boolean;
}

export interface CatalogSize {
  name: string;
  description: string | null;
  vcpu: number | null;
  memoryMb: number | null;
  diskGb: number | null;
  gpu: { count: number; model: string; memoryGb: number | null } | null;
  isDefault: boolean;
}

/** Images can be picked from a list. */
export const imageList = (c: LaunchCatalog | null): boolean => !!c?.imageOption && c.images.length > 0;
/** Sizes can be picked from a list. */
export const sizeList = (c: LaunchCatalog | null): boolean => !!c?.sizeOption && c.sizes.length > 0;

/** The size a form starts with: none (own vCPU/RAM/disk) when any spec goes, else the default or first. */
export function initialSize(c: LaunchCatalog | null): string {
  if (!c || !sizeList(c) || c.anySpec) return '';
  return (c.sizes.find((s) => s.isDefault) ?? c.sizes[0])?.name ?? '';
}

/** The chosen catalog size, if any. */
export function chosenSize(f: LaunchForm, c: LaunchCatalog | null): CatalogSize | undefined {
  return sizeList(c) && f.size ? c?.sizes.find((s) => s.name === f.size) : undefined;
}

/** "2 vCPU · 2048 MB · 20 GB · 1× H100" for a size's option label. */
export function sizeLabel(s: CatalogSize): string {
  const parts = [
    s.vcpu !== null ? `${s.vcpu} vCPU` : null,
    s.memoryMb !== null ? `${s.memoryMb} MB` : null,
    s.diskGb !== null ? `${s.diskGb} GB` : null,
    s.gpu ? `${s.gpu.count}× ${s.gpu.model}${s.gpu.memoryGb ? ` ${s.gpu.memoryGb} GB` : ''}` : null,
  ].filter(Boolean);
  const title = s.description && !s.gpu ? `${s.name} (${s.description})` : s.name;
  return parts.length ? `${title}: ${parts.join(' · ')}` : title;
}

export function toInput(
  f: LaunchForm,
  catalog: LaunchCatalog | null = null,
): { input: CreateInput } | { problem: string } {
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
  // Catalog picks go into the options fields the catalog names, over the JSON's.
  const size = chosenSize(f, catalog);
  const picks: Record<string, string> = {};
  if (catalog?.imageOption && imageList(catalog) && f.image) picks[catalog.imageOption] = f.image;
  if (catalog?.sizeOption && size) picks[catalog.sizeOption] = size.name;
  if (Object.keys(picks).length) {
    if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
      return { problem: 'options: must be a JSON object to add the catalog choices to' };
    }
    options = { ...(options as Record<string, unknown> | undefined), ...picks };
  }
  const freeImage = !imageList(catalog) && f.image;
  const ttl = Math.round(Number(f.ttlHours) * 3600);
  return {
    input: {
      name: f.name || 'quote',
      provisioner: f.provisioner,
      spec: {
        vcpu: size?.vcpu ?? Number(f.vcpu),
        memoryMb: size?.memoryMb ?? Number(f.memoryMb),
        diskGb: size?.diskGb ?? Number(f.diskGb),
        ...(freeImage ? { image: f.image } : {}),
      },
      ...(ttl > 0 ? { ttlSeconds: ttl } : {}),
      ...(Object.keys(labels).length ? { labels } : {}),
      ...(options !== undefined ? { options } : {}),
    },
  };
}
