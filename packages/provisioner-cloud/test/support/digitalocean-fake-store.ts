/**
 * The DigitalOcean fake's state, without HTTP: droplets and actions, and how they move on.
 * A `new` droplet becomes `active` (with networks) after N reads by id or some ms; an action
 * completes after N reads and then lands its effect (`shutdown`/`power_off` → `off`, ...).
 */
import {
  completed,
  type FakeAction,
  type FakeDroplet,
  networksFor,
  newAction,
  newDroplet,
} from './digitalocean-fake-model.js';

export interface LifecycleOptions {
  /** Reads by id that still answer `new` (default 1). */
  activeAfterGets: number;
  /** Or: ms after the create (whichever comes first). */
  activeAfterMs?: number;
  /** Reads of an in-progress action before it completes (default 1). */
  actionAfterGets: number;
  /** Droplets in this region stay `new` for `slowMs` whatever the reads (a slow build to abort). */
  slowRegion?: string;
  slowMs?: number;
}

export type CreateBody = { name: string; size: string; image: string; region?: string; tags?: string[] | null };

export class FakeDropletStore {
  readonly droplets = new Map<number, FakeDroplet>();
  readonly actions = new Map<number, FakeAction>();
  /** The guest ignores `shutdown`: the action completes, the droplet stays `active`. */
  ignoreShutdown = false;
  readonly #reads = new Map<string, number>();
  readonly #createdAt = new Map<number, number>();
  #nextId = 3164400;

  constructor(private readonly options: LifecycleOptions) {}

  create(body: CreateBody): { droplet: FakeDroplet; action: FakeAction } {
    const now = Date.now();
    const droplet = newDroplet(this.#nextId++, body, now);
    this.droplets.set(droplet.id, droplet);
    this.#createdAt.set(droplet.id, now);
    const action = this.#addAction('create', droplet);
    return { droplet, action };
  }

  /** Another action is still running on the droplet (DigitalOcean then answers 422 "pending event"). */
  busy(dropletId: number): boolean {
    return [...this.actions.values()].some(
      (a) => a.resource_id === dropletId && a.status === 'in-progress' && a.type !== 'create',
    );
  }

  act(droplet: FakeDroplet, type: string): FakeAction {
    return this.#addAction(type, droplet);
  }

  #addAction(type: string, droplet: FakeDroplet): FakeAction {
    const action = newAction(this.#nextId++, type, droplet, Date.now());
    this.actions.set(action.id as number, action);
    return action;
  }

  #read(key: string): number {
    const n = (this.#reads.get(key) ?? 0) + 1;
    this.#reads.set(key, n);
    return n;
  }

  /** A read of a droplet (a list counts only for time, a GET by id also as a read). */
  observe(droplet: FakeDroplet, byId: boolean): FakeDroplet {
    if (droplet.status !== 'new') return droplet;
    const reads = byId ? this.#read(`d${droplet.id}`) : (this.#reads.get(`d${droplet.id}`) ?? 0);
    const age = Date.now() - (this.#createdAt.get(droplet.id) ?? 0);
    const { activeAfterGets, activeAfterMs } = this.options;
    const slow = droplet.region.slug === this.options.slowRegion;
    const ready = slow
      ? age >= (this.options.slowMs ?? 2_000)
      : reads > activeAfterGets || (activeAfterMs !== undefined && age >= activeAfterMs);
    if (ready) {
      droplet.status = 'active';
      droplet.networks = networksFor(droplet.id);
      for (const a of this.actions.values()) {
        if (a.resource_id === droplet.id && a.type === 'create')
          this.actions.set(a.id as number, completed(a, Date.now()));
      }
    }
    return droplet;
  }

  /** A read of an action: it completes after enough reads, and its effect lands on the droplet. */
  advance(action: FakeAction): FakeAction {
    if (action.status !== 'in-progress' || action.type === 'create') return action;
    if (this.#read(`a${action.id}`) < this.options.actionAfterGets) return action;
    const done = completed(action, Date.now());
    this.actions.set(action.id as number, done);
    const droplet = this.droplets.get(action.resource_id ?? 0);
    if (droplet) {
      if (action.type === 'power_off' || (action.type === 'shutdown' && !this.ignoreShutdown)) droplet.status = 'off';
      if (['power_on', 'reboot', 'power_cycle'].includes(action.type ?? '')) droplet.status = 'active';
    }
    return done;
  }
}
