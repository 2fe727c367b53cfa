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
 * with ajv; problems land in `violations` (tests assert it stays empty). State transitions are
 * in digitalocean-fake-store.ts, fault injection in digitalocean-fake-faults.ts.
 */
import { delay, HttpResponse, http } from 'msw';
import { type FaultKind, type FaultOptions, FaultQueue } from './digitalocean-fake-faults.js';
import { errorBody, fakeImages, fakeRegions, fakeSizes, MESSAGES, pageLinks } from './digitalocean-fake-model.js';
import { type CreateBody, FakeDropletStore, type LifecycleOptions } from './digitalocean-fake-store.js';
import { digitalOceanValidator, type SpecValidator } from './digitalocean-validator.js';
import { fetchThrough } from './fake-provider-server.js';

export type { FaultKind, FaultOptions } from './digitalocean-fake-faults.js';

export interface FakeOptions extends Partial<LifecycleOptions> {
  token?: string;
  baseUrl?: string;
}

const RATE_LIMIT = 5000;
type Entry = { method: string; path: string; search: string; status?: number };

export class DigitalOceanFake {
  readonly token: string;
  readonly baseUrl: string;
  readonly store: FakeDropletStore;
  readonly faults = new FaultQueue();
  readonly requests: Entry[] = [];
  readonly violations: string[] = [];
  /** Every create body received (user_data included), in order. */
  readonly createBodies: (CreateBody & { user_data?: string })[] = [];
  /** The largest per_page honoured (DigitalOcean's is 200); lower it to force paging. */
  maxPerPage = 200;
  /** Creates beyond this many droplets get the droplet-limit 422. */
  dropletLimit = Number.POSITIVE_INFINITY;
  readonly handlers;
  /** A fetch that answers through the handlers, in process (see fetchThrough). */
  readonly fetch: typeof fetch;
  readonly #validator: SpecValidator;
  #remaining = RATE_LIMIT;

  constructor(validator: SpecValidator, options: FakeOptions = {}) {
    this.#validator = validator;
    this.token = options.token ?? 'dop_v1_fake';
    this.baseUrl = options.baseUrl ?? 'https://api.digitalocean.com';
    this.store = new FakeDropletStore({
      activeAfterGets: options.activeAfterGets ?? 1,
      actionAfterGets: options.actionAfterGets ?? 1,
      ...(options.activeAfterMs !== undefined ? { activeAfterMs: options.activeAfterMs } : {}),
      ...(options.slowRegion !== undefined ? { slowRegion: options.slowRegion, slowMs: options.slowMs ?? 2_000 } : {}),
    });
    this.handlers = [http.all(`${this.baseUrl}/v2/*`, ({ request }) => this.#handle(request))];
    this.fetch = fetchThrough(this.handlers);
  }

  get droplets() {
    return this.store.droplets;
  }

  /** The next `times` matching requests fail as `kind`. */
  inject(kind: FaultKind, options: FaultOptions = {}): void {
    this.faults.add(kind, options);
  }

  /** Droplets built for `resourceId` (by their name), any status. */
  dropletsOf(resourceId: string) {
    return [...this.droplets.values()].filter((d) => d.name === `slipway-${resourceId}`);
  }

  count(method: string, path: string): number {
    return this.requests.filter((r) => r.method === method && r.path === path).length;
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
    const text = body === undefined ? null : JSON.stringify(body);
    return new HttpResponse(text, { status, headers: this.#headers(headers) });
  }

  #error(method: string, path: string, status: number, id: string, message: string, headers?: Record<string, string>) {
    return this.#reply(method, path, status, errorBody(id, message), headers);
  }

  async #handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const { method } = request;
    const path = url.pathname;
    const entry: Entry = { method, path, search: url.search };
    this.requests.push(entry);
    const template = this.#validator.template(method, path);
    if (!template) {
      this.violations.push(`${method} ${path}: not in the spec subset`);
      return this.#error(method, path, 404, 'not_found', MESSAGES.notFound);
    }
    if (request.headers.get('authorization') !== `Bearer ${this.token}`) {
      return this.#error(method, path, 401, 'unauthorized', MESSAGES.unauthorized);
    }
    const stall = this.faults.take(method, template, ['stall']);
    if (stall) await delay(stall.delayMs ?? 1_000);
    const before = this.faults.take(method, template, ['rate_limit', 'server_error']);
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
      try {
        body = JSON.parse(await request.text());
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
    const after = this.faults.take(method, template, ['slow', 'malformed_json', 'lost_reply']);
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
    const unprocessable = (message: string) => this.#error(method, path, 422, 'unprocessable_entity', message);
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
          droplets.map((d) => this.store.observe(d, false)),
        );
      }
      case 'POST /v2/droplets': {
        const create = body as CreateBody;
        this.createBodies.push(create);
        if (this.faults.take(method, template, ['droplet_limit']) || this.droplets.size >= this.dropletLimit) {
          return unprocessable(MESSAGES.dropletLimit);
        }
        if (!fakeSizes.some((s) => s.slug === create.size)) return unprocessable(MESSAGES.invalidSize);
        if (!fakeImages.some((i) => i.slug === create.image)) return unprocessable(MESSAGES.invalidImage);
        if (create.region && !fakeRegions.some((r) => r.slug === create.region))
          return unprocessable(MESSAGES.invalidRegion);
        const { droplet, action } = this.store.create(create);
        const href = `${this.baseUrl}/v2/actions/${action.id}`;
        return this.#reply(method, path, 202, {
          droplet,
          links: { actions: [{ id: action.id, rel: 'create', href }] },
        });
      }
      case 'DELETE /v2/droplets': {
        const tag = q.get('tag_name') ?? '';
        for (const d of [...this.droplets.values()]) if (d.tags.includes(tag)) this.droplets.delete(d.id);
        return this.#reply(method, path, 204, undefined);
      }
      case 'GET /v2/droplets/{droplet_id}': {
        const droplet = this.droplets.get(id);
        if (!droplet) return this.#error(method, path, 404, 'not_found', MESSAGES.notFound);
        return this.#reply(method, path, 200, { droplet: this.store.observe(droplet, true) });
      }
      case 'DELETE /v2/droplets/{droplet_id}': {
        if (!this.droplets.has(id)) return this.#error(method, path, 404, 'not_found', MESSAGES.notFound);
        if (this.faults.take(method, template, ['pending_event'])) return unprocessable(MESSAGES.pendingEvent);
        this.droplets.delete(id);
        return this.#reply(method, path, 204, undefined);
      }
      case 'POST /v2/droplets/{droplet_id}/actions': {
        const droplet = this.droplets.get(id);
        if (!droplet) return this.#error(method, path, 404, 'not_found', MESSAGES.notFound);
        if (this.store.busy(id) || this.faults.take(method, template, ['pending_event'])) {
          return unprocessable(MESSAGES.pendingEvent);
        }
        return this.#reply(method, path, 201, { action: this.store.act(droplet, (body as { type: string }).type) });
      }
      case 'GET /v2/actions/{action_id}': {
        const action = this.store.actions.get(id);
        if (!action) return this.#error(method, path, 404, 'not_found', MESSAGES.notFound);
        return this.#reply(method, path, 200, { action: this.store.advance(action) });
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
}

/** A fresh fake (the spec validator is built once per worker and shared). */
export async function createDigitalOceanFake(options: FakeOptions = {}): Promise<DigitalOceanFake> {
  return new DigitalOceanFake(await digitalOceanValidator(), options);
}
