/**
 * What the run has seen so far: resources (with owner), devices, cursors, event seqs. The
 * fuzzer resolves `Ref`s against it, so generated operations name real rows, and checks
 * every answer against it: a user never sees another user's resource, account or event.
 */
import type { ActorName } from './harness.js';
import { type Gen, Raw, Ref } from './values.js';

export interface SeenResource {
  id: string;
  owner: string;
  status: string;
}

const ACCOUNTS = ['alice', 'bob', 'root', 'carol'];
const NO_SUCH_RESOURCE = '6d1f1c3e-0000-4000-8000-000000000000';

export class World {
  readonly resources = new Map<string, SeenResource>();
  readonly devices = new Map<string, string>();
  readonly cursors: string[] = [];
  /** As the API answers them: BigInt, a decimal string. */
  readonly seqs: string[] = [];

  resolve(value: Gen, actor: ActorName): Gen {
    if (value instanceof Ref) return this.pick(value, actor);
    if (value instanceof Raw || value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((v) => this.resolve(v, actor));
    const out = JSON.parse('{}') as Record<string, Gen>;
    for (const [k, v] of Object.entries(value)) {
      Object.defineProperty(out, k, { value: this.resolve(v, actor), enumerable: true, writable: true });
    }
    return out;
  }

  private pick(r: Ref, actor: ActorName): Gen {
    const at = <T>(list: readonly T[]): T | undefined => list[r.pick % Math.max(list.length, 1)];
    const all = [...this.resources.values()];
    const own = all.filter((x) => x.owner === actor);
    switch (r.kind) {
      case 'ownResource':
        return at(own.length > 0 ? own : all)?.id ?? NO_SUCH_RESOURCE;
      case 'anyResource':
        return at(all)?.id ?? NO_SUCH_RESOURCE;
      case 'device':
        return at([...this.devices.keys()]) ?? 'disk-1';
      case 'account':
        return at(ACCOUNTS) ?? 'alice';
      case 'cursor':
        return at(this.cursors) ?? 'bm90LWEtY3Vyc29y';
      case 'seq':
        return at(this.seqs) ?? '0';
    }
  }

  /**
   * Record what an answer shows and return every leak in it: a user (not admin) shown a
   * resource, account or event that is not theirs.
   */
  harvest(data: unknown, actor: ActorName): string[] {
    const leaks: string[] = [];
    const user = actor === 'alice' || actor === 'bob' ? actor : null;
    const walk = (node: unknown, parentResource: string | null): void => {
      if (Array.isArray(node)) {
        for (const n of node) walk(n, parentResource);
        return;
      }
      if (node === null || typeof node !== 'object') return;
      const o = node as Record<string, unknown>;
      let resourceId = parentResource;
      switch (o.__typename) {
        case 'Resource':
          if (typeof o.id === 'string' && typeof o.ownerId === 'string') {
            resourceId = o.id;
            this.resources.set(o.id, { id: o.id, owner: o.ownerId, status: String(o.status) });
            if (user && o.ownerId !== user) leaks.push(`${user} was shown resource ${o.id} of ${o.ownerId}`);
          }
          break;
        case 'Device':
          if (typeof o.id === 'string' && parentResource) this.devices.set(o.id, parentResource);
          break;
        case 'ResourceEdge':
          if (typeof o.cursor === 'string') this.remember(this.cursors, o.cursor);
          break;
        case 'Event':
          if (typeof o.seq === 'string') this.remember(this.seqs, o.seq);
          if (user && o.ownerId !== user) leaks.push(`${user} was shown event ${o.seq} of ${String(o.ownerId)}`);
          break;
        case 'Account':
          if (user && o.id !== user) leaks.push(`${user} was shown account ${String(o.id)}`);
          break;
      }
      for (const v of Object.values(o)) walk(v, resourceId);
    };
    walk(data, null);
    return leaks;
  }

  private remember<T>(list: T[], value: T): void {
    if (list.includes(value)) return;
    list.push(value);
    if (list.length > 50) list.shift();
  }
}
