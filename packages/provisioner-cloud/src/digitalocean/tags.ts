/**
 * The tags Slipway puts on a droplet, which are how it finds the droplet again after a crash,
 * a lost create reply or an orphan sweep. DigitalOcean tags allow letters, digits, `:`, `-`
 * and `_` (≤ 255 characters): an id that does not fit is replaced by a hash of it.
 */
import { createHash } from 'node:crypto';

const TAG_SAFE = /^[a-z0-9_-]{1,100}$/;

/** The id itself when it fits the tag rules (lowercased), else `h-` and 32 hex digits of its SHA-256. */
export function tagValue(id: string): string {
  const lower = id.toLowerCase();
  return TAG_SAFE.test(lower) ? lower : `h-${createHash('sha256').update(id).digest('hex').slice(0, 32)}`;
}

export interface DropletTags {
  /** On every droplet Slipway builds; inventory lists it. */
  readonly base: string;
  resource(resourceId: string): string;
  request(requestId: string): string;
  /** The ids a droplet's tags name (hashed ones cannot be read back, so they are left out). */
  parse(tags: readonly string[]): { resourceId?: string; requestId?: string };
}

export function dropletTags(prefix: string): DropletTags {
  const resourcePrefix = `${prefix}resource:`;
  const requestPrefix = `${prefix}request:`;
  const readable = (tags: readonly string[], start: string) => {
    const value = tags.find((t) => t.startsWith(start))?.slice(start.length);
    return value && !value.startsWith('h-') ? value : undefined;
  };
  return {
    base: prefix.replace(/[:_-]+$/, ''),
    resource: (id) => `${resourcePrefix}${tagValue(id)}`,
    request: (id) => `${requestPrefix}${tagValue(id)}`,
    parse(tags) {
      const resourceId = readable(tags, resourcePrefix);
      const requestId = readable(tags, requestPrefix);
      return { ...(resourceId ? { resourceId } : {}), ...(requestId ? { requestId } : {}) };
    },
  };
}
