/**
 * A stateful fake of the DigitalOcean API subset, as msw 2 handlers (cloud-apis.md A and C.5):
 * droplets `new` → `active` after N GETs (or ms), networks filled when active, actions
 * in-progress → completed, `shutdown` → `off`, tag/page/per_page lists with `links.pages` and
 * `meta.total`, Bearer auth, ratelimit-* headers and `{id, message, request_id}` errors.
 *
 * Assumption (the spec says only "by default only non-GPU droplets are listed"): a `tag_name`
 * list includes GPU droplets, since `tag_name` cannot be combined with `type`.
 *
 * Every request body it receives and every response body it sends is checked against the spec
 * with ajv; problems land in `violations` (tests assert it stays empty).
 */
import { delay, HttpResponse, http } from 'msw';
import {
  completed,
  errorBody,
  type FakeAction,
  type FakeDroplet,
  fakeImages,
  fakeRegions,
  fakeSizes,
  MESSAGES,
  networksFor,
  newAction,
  newDroplet,
  pageLinks,
} from './digitalocean-fake-model.js';
import { digitalOceanValidator, type SpecValidator } from './digitalocean-validator.js';
import { fetchThrough } from './fake-provider-server.js';

export type FaultKind =
  /** 429 before processing, with ratelimit-remaining 0, ratelimit-reset and retry-after. */
  | 'rate_limit'
  /** 500 before processing. */
  | 'server_error'
  /** Processed, then answered after `delayMs` (beyond the client's time-out). */
  | 'slow'
  /** Processed, then answered with a body that is not JSON. */
  | 'malformed_json'
  /** Processed (a create stores its droplet), then the connection drops. */
  | 'lost_reply'
  /** 422 "will exceed your droplet limit" instead of a create. */
  | 'droplet_limit'
  /** 422 "pending event" instead of a delete or an action. */
  | 'pending_event';

export interface FaultOptions {
  times?: number;
  /** Only requests with this method (GET, POST, DELETE). */
  method?: string;
  /** Only requests whose spec path template is this (`/v2/droplets`, `/v2/droplets/{droplet_id}`). */
  path?: string;
  delayMs?: number;
  retryAfterSeconds?: number;
}

interface Fault extends FaultOptions {
  kind: FaultKind;
  remaining: number;
}

export interface FakeOptions {
  token?: string;
  baseUrl?: string;
  /** GETs of a `new` droplet before it is `active` (default 1). */
  activeAfterGets?: number;
  /** Or: ms after its create (whichever comes first). */
  activeAfterMs?: number;
  /** GETs of an in-progress action before it completes (default 1). */
  actionAfterGets?: number;
}

const RATE_LIMIT = 5000;

export class DigitalOceanFake {
  readonly token: string;
  readonly baseUrl: string;
  readonly droplets = new Map<number, FakeDroplet>();
  readonly actions = new Map<number, FakeAction>();
  readonly requests: { method: string; path: string; search: string; status?: number }[] = [];
  readonly violations: string[] = [];
  /** The largest per_page honoured (DigitalOcean's is 200); lower it to force paging. */
  maxPerPage = 200;
  /** Creates beyond this many droplets get the droplet-limit 422. */
  dropletLimit = Number.POSITIVE_INFINITY;
  /** The guest ignores `shutdown`: the action completes, the droplet stays `active`. */
  ignoreShutdown = false;
  readonly handlers;
  /** A fetch that answers through the handlers, in process (see fetchThrough). */
  readonly fetch: typeof fetch;
  readonly #options: Required<Omit<FakeOptions, 'activeAfterMs'>> & { activeAfterMs?: number };
  readonly #validator: SpecValidator;
  readonly #faults: Fault[] = [];
  readonly #gets = new Map<number, number>();
  readonly #createdAt = new Map<number, number>();
  #nextId = 3164400;
  #remaining = RATE_LIMIT;

  constructor(validator: SpecValidator, options: FakeOptions = {}) {
    this.#validator = validator;
    this.#options = {
      token: 'dop_v1_fake',
      baseUrl: 'https://api.digitalocean.com',
      activeAfterGets: 1,
      actionAfterGets: 1,
      ...options,
    };
    this.token = this.#options.token;
    this.baseUrl = this.#options.baseUrl;
    this.handlers = [http.all(`${this.baseUrl}/v2/*`, ({ request }) => this.#handle(request))];
    this.fetch = fetchThrough(this.handlers);
  }

  /** The next `times` matching requests fail as `kind`. */
  inject(kind: FaultKind, options: FaultOptions = {}): void {
    this.#faults.push({ ...options, kind, remaining: options.times ?? 1 });
  }

  /** Droplets whose name or tags mention `resourceId` (any status). */
  dropletsOf(resourceId: string): FakeDroplet[] {
    const id = resourceId.toLowerCase();
    return [...this.droplets.values()].filter((d) => d.name.includes(id) || d.tags.some((t) => t.endsWith(`:${id}`)));
  }

  count(method: string, path: string): number {
    return this.requests.filter((r) => r.method === method && r.path === path).length;
  }

  #take(method: string, template: string, kinds: FaultKind[]): Fault | undefined {
    const fault = this.#faults.find(
      (f) =>
        f.remaining > 0 &&
        kinds.includes(f.kind) &&
        (!f.method || f.method === method) &&
        (!f.path || f.path === template),
    );
    if (fault) fault.remaining--;
    return fault;
  }

  #headers(extra: Record<string, string> = {}): Record<string, string> {
    this.#remaining = Math.max(0, this.#remaining - 1);
    return {
      'content-type': 'application/json; charset=utf-8',
      'ratelimit-limit': String(RATE_LIMIT),
      'ratelimit-remaining': String(this.#remaining),
      'ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
      'x-request-id': crypto.randomUUID(),
      ...extra,
    };
  }

  #reply(method: string, path: string, status: number, body: unknown, headers: Record<string, string> = {}) {
    if (body !== undefined) this.violations.push(...this.#validator.response(method, path, status, body));
    return new HttpResponse(body === undefined ? null : JSON.stringify(body), {
      status,
      headers: this.#headers(headers),
    });
  }

  #error(method: string, path: string, status: number, id: string, message: string, headers?: Record<string, string>) {
    return this.#reply(method, path, status, errorBody(id, message), headers);
  }

  async #handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const method = request.method;
    const path = url.pathname;
    const entry: { method: string; path: string; search: string; status?: number } = {
      method,
      path,
      search: url.search,
    };
    this.requests.push(entry);
    const template = this.#validator.template(method, path);
    if (!template) {
      this.violations.push(`${method} ${path}: not in the spec subset`);
      return this.#error(method, path, 404, 'not_found', MESSAGES.notFound);
    }
    if (request.headers.get('authorization') !== `Bearer ${this.token}`) {
      return this.#error(method, path, 401, 'unauthorized', MESSAGES.unauthorized);
    }
    const before = this.#take(method, template, ['rate_limit', 'server_error']);
    if (before?.kind === 'rate_limit') {
      const wait = before.retryAfterSeconds ?? 1;
      this.#remaining = 1; // #headers takes it to 0
      return this.#error(method, path, 429, 'too_many_requests', MESSAGES.rateLimited, {
        'ratelimit-reset': String(Math.floor(Date.now() / 1000) + wait),
        'retry-after': String(wait),
      });
    }
    if (before) return this.#error(method, path, 500, 'server_error', MESSAGES.server);

    let body: unknown;
    if (method === 'POST') {
      const text = await request.text();
      try {
        body = JSON.parse(text);
      } catch {
        return this.#error(method, path, 400, 'bad_request', MESSAGES.badRequest);
      }
      const problems = this.#validator.request(method, path, body);
      if (problems.length) {
        this.violations.push(...problems);
        return this.#error(method, path, 422, 'unprocessable_entity', 'request payload validation failed');
      }
    }
    const response = this.#route(method, template, url, body);
    entry.status = response.status;
    const after = this.#take(method, template, ['slow', 'malformed_json', 'lost_reply']);
    if (after?.kind === 'lost_reply') return HttpResponse.error();
    if (after?.kind === 'malformed_json') {
      return new HttpResponse('{"droplet": {"id": 1, "status": "ne', {
        status: response.status,
        headers: this.#headers(),
      });
    }
    if (after?.kind === 'slow') await delay(after.delayMs ?? 1_000);
    return response;
  }

  #route(method: string, template: string, url: URL, body: unknown): Response {
    const path = url.pathname;
    const id = Number(path.split('/')[3]);
    const q = url.searchParams;
    switch (`${method} ${template}`) {
      case 'GET /v2/droplets': {
        const tag = q.get('tag_name');
        if (tag !== null && (q.has('type') || q.has('name'))) {
          return this.#error(method, path, 400, 'bad_request', 'tag_name cannot be combined with name or type');
        }
        const gpus = q.get('type') === 'gpus';
        const droplets = [...this.droplets.values()].filter((d) =>
          tag !== null
            ? d.tags.includes(tag)
            : Boolean(d.gpu_info) === gpus && (!q.has('name') || d.name === q.get('name')),
        );
        return this.#list(
          method,
          url,
          'droplets',
          droplets.map((d) => this.#observe(d, false)),
        );
      }
      case 'POST /v2/droplets':
        return this.#create(
          method,
          path,
          body as { name: string; size: string; image: string; region?: string; tags?: string[] },
        );
      case 'DELETE /v2/droplets': {
        const tag = q.get('tag_name') ?? '';
        for (const d of [...this.droplets.values()]) if (d.tags.includes(tag)) this.droplets.delete(d.id);
        return this.#reply(method, path, 204, undefined);
      }
      case 'GET /v2/droplets/{droplet_id}': {
        const droplet = this.droplets.get(id);
        if (!droplet) return this.#error(method, path, 404, 'not_found', MESSAGES.notFound);
        return this.#reply(method, path, 200, { droplet: this.#observe(droplet, true) });
      }
      case 'DELETE /v2/droplets/{droplet_id}': {
        if (!this.droplets.has(id)) return this.#error(method, path, 404, 'not_found', MESSAGES.notFound);
        if (this.#take(method, template, ['pending_event'])) {
          return this.#error(method, path, 422, 'unprocessable_entity', MESSAGES.pendingEvent);
        }
        this.droplets.delete(id);
        return this.#reply(method, path, 204, undefined);
      }
      case 'POST /v2/droplets/{droplet_id}/actions':
        return this.#act(method, template, path, id, (body as { type: string }).type);
      case 'GET /v2/actions/{action_id}': {
        const action = this.actions.get(id);
        if (!action) return this.#error(method, path, 404, 'not_found', MESSAGES.notFound);
        return this.#reply(method, path, 200, { action: this.#advance(action) });
      }
      case 'GET /v2/sizes':
        return this.#list(method, url, 'sizes', fakeSizes);
      case 'GET /v2/regions':
        return this.#list(method, url, 'regions', fakeRegions);
      default:
        this.violations.push(`${method} ${template}: the fake does not implement it`);
        return this.#error(method, path, 404, 'not_found', MESSAGES.notFound);
    }
  }

  #list(method: string, url: URL, key: string, items: readonly unknown[]): Response {
    const perPage = Math.min(this.maxPerPage, Number(url.searchParams.get('per_page') ?? 20));
    const page = Number(url.searchParams.get('page') ?? 1);
    const pageItems = items.slice((page - 1) * perPage, page * perPage);
    const links = { pages: pageLinks(url, page, perPage, items.length) };
    return this.#reply(method, url.pathname, 200, { [key]: pageItems, links, meta: { total: items.length } });
  }

  #create(
    method: string,
    path: string,
    body: { name: string; size: string; image: string; region?: string; tags?: string[] },
  ) {
    if (this.#take(method, '/v2/droplets', ['droplet_limit']) || this.droplets.size >= this.dropletLimit) {
      return this.#error(method, path, 422, 'unprocessable_entity', MESSAGES.dropletLimit);
    }
    if (!fakeSizes.some((s) => s.slug === body.size))
      return this.#error(method, path, 422, 'unprocessable_entity', MESSAGES.invalidSize);
    if (!fakeImages.some((i) => i.slug === body.image))
      return this.#error(method, path, 422, 'unprocessable_entity', MESSAGES.invalidImage);
    if (body.region && !fakeRegions.some((r) => r.slug === body.region)) {
      return this.#error(method, path, 422, 'unprocessable_entity', MESSAGES.invalidRegion);
    }
    const now = Date.now();
    const droplet = newDroplet(this.#nextId++, body, now);
    this.droplets.set(droplet.id, droplet);
    this.#createdAt.set(droplet.id, now);
    const action = newAction(this.#nextId++, 'create', droplet, now);
    this.actions.set(action.id as number, action);
    const href = `${this.baseUrl}/v2/actions/${action.id}`;
    return this.#reply(method, path, 202, { droplet, links: { actions: [{ id: action.id, rel: 'create', href }] } });
  }

  #act(method: string, template: string, path: string, id: number, type: string): Response {
    const droplet = this.droplets.get(id);
    if (!droplet) return this.#error(method, path, 404, 'not_found', MESSAGES.notFound);
    const busy = [...this.actions.values()].some(
      (a) => a.resource_id === id && a.status === 'in-progress' && a.type !== 'create',
    );
    if (busy || this.#take(method, template, ['pending_event'])) {
      return this.#error(method, path, 422, 'unprocessable_entity', MESSAGES.pendingEvent);
    }
    const action = newAction(this.#nextId++, type, droplet, Date.now());
    this.actions.set(action.id as number, action);
    return this.#reply(method, path, 201, { action });
  }

  /** A read of a droplet: a `new` one becomes `active` after enough reads (by id) or time. */
  #observe(droplet: FakeDroplet, byId: boolean): FakeDroplet {
    if (droplet.status !== 'new') return droplet;
    const gets = (this.#gets.get(droplet.id) ?? 0) + (byId ? 1 : 0);
    this.#gets.set(droplet.id, gets);
    const age = Date.now() - (this.#createdAt.get(droplet.id) ?? 0);
    const { activeAfterGets, activeAfterMs } = this.#options;
    if (gets > activeAfterGets || (activeAfterMs !== undefined && age >= activeAfterMs)) {
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
  #advance(action: FakeAction): FakeAction {
    if (action.status !== 'in-progress' || action.type === 'create') return action;
    const key = -(action.id as number);
    const gets = (this.#gets.get(key) ?? 0) + 1;
    this.#gets.set(key, gets);
    if (gets < this.#options.actionAfterGets) return action;
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

/** A fresh fake (the spec validator is built once per worker and shared). */
export async function createDigitalOceanFake(options: FakeOptions = {}): Promise<DigitalOceanFake> {
  return new DigitalOceanFake(await digitalOceanValidator(), options);
}
