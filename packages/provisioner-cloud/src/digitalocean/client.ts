/**
 * A typed DigitalOcean API client: openapi-fetch over the generated types (no hand-written
 * request or response shapes), every call through the provider policy (retries, breaker,
 * per-request time-out), every non-2xx classified into a ProviderHttpError.
 *
 * The token only ever goes into the Authorization header; errors and logs carry the
 * provider's status and message, never the request.
 */
import type { Logger } from '@slipway/core';
import createClient from 'openapi-fetch';
import { httpError, isProviderError, ProviderHttpError, redact } from '../shared/provider-error.js';
import type { ProviderPolicy } from '../shared/provider-policy.js';
import type { components, paths } from './generated/openapi.js';

export const PROVIDER = 'digitalocean';

export type Droplet = components['schemas']['droplet'];
export type DropletAction = components['schemas']['action'];
export type DropletCreate = components['schemas']['droplet_single_create'];
export type DropletActionType = components['schemas']['droplet_action']['type'];
export type Size = components['schemas']['size'];
export type Region = components['schemas']['region'];

export interface CallOptions {
  readonly signal: AbortSignal;
  readonly logger?: Logger;
}

export interface DigitalOceanClientOptions {
  readonly token: string;
  readonly baseUrl: string;
  readonly policy: ProviderPolicy;
  /** Default: the global fetch. Tests pass the fake's. */
  readonly fetch?: typeof fetch;
  /** Page size of list calls (DigitalOcean's maximum is 200). */
  readonly perPage?: number;
}

/** DigitalOcean's 422 for an account at its droplet quota: no capacity, try elsewhere. */
const DROPLET_LIMIT = /exceed your droplet limit/i;
/** One action at a time per droplet: a second one (or a delete) gets 422 "...has a pending event". */
const PENDING_EVENT = /pending event/i;

/** A 422 refusing an action or a delete because another action is still running on the droplet. */
export const isPendingEvent = (error: unknown): error is ProviderHttpError =>
  isProviderError(error) && error.details.status === 422 && PENDING_EVENT.test(error.providerMessage);

/**
 * `httpError()` plus DigitalOcean's own meanings: a 422 about the droplet limit is capacity.
 * DigitalOcean sends `ratelimit-reset` on every answer (when the oldest request of the hour
 * expires), so it is a wait only on a 429; a 5xx keeps only an explicit `retry-after`.
 */
export function classify(response: Response, body: string): ProviderHttpError {
  const error = httpError(PROVIDER, response, body);
  const { retryAfterMs, ...details } = error.details;
  const keepWait = response.status === 429 || response.headers.has('retry-after');
  const kind = response.status === 422 && DROPLET_LIMIT.test(error.providerMessage) ? 'capacity' : error.kind;
  if (kind === error.kind && (keepWait || retryAfterMs === undefined)) return error;
  return new ProviderHttpError(PROVIDER, kind, error.providerMessage, {
    ...details,
    ...(keepWait && retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });
}

type Result<D> = { data?: D; error?: unknown; response: Response };

export class DigitalOceanClient {
  readonly #api;
  readonly #policy: ProviderPolicy;
  readonly #perPage: number;
  readonly #token: string;

  constructor(options: DigitalOceanClientOptions) {
    this.#policy = options.policy;
    this.#token = options.token;
    this.#perPage = options.perPage ?? 200;
    const injected = options.fetch;
    this.#api = createClient<paths>({
      baseUrl: options.baseUrl,
      headers: { Authorization: `Bearer ${options.token}`, Accept: 'application/json' },
      // Looked up per call, so a fetch patched after construction (msw's interceptor) is used.
      fetch: (request: Request) => (injected ?? globalThis.fetch)(request),
    });
  }

  /** One request under the policy; a non-2xx becomes a classified ProviderHttpError. */
  async #run<D>(
    what: string,
    o: CallOptions,
    idempotent: boolean,
    fn: (signal: AbortSignal) => Promise<Result<D>>,
  ): Promise<D | undefined> {
    return this.#policy.run(
      what,
      async (signal) => {
        const { data, error, response } = await fn(signal);
        if (!response.ok) {
          const body = typeof error === 'string' ? error : error === undefined ? '' : JSON.stringify(error);
          // A proxy or a debugging endpoint may echo the request's headers: the token stays out of logs.
          throw classify(response, redact(body, [this.#token]));
        }
        return data;
      },
      { signal: o.signal, idempotent, ...(o.logger ? { logger: o.logger } : {}) },
    );
  }

  /** Like #run, for answers that must have a body: an empty one is a broken answer. */
  async #json<D>(what: string, o: CallOptions, idempotent: boolean, fn: (signal: AbortSignal) => Promise<Result<D>>) {
    const data = await this.#run(what, o, idempotent, fn);
    if (data === undefined || data === null) throw new ProviderHttpError(PROVIDER, 'network', `${what}: empty body`);
    return data;
  }

  /** The droplet, or null when DigitalOcean does not know the id (404). */
  async getDroplet(id: number, o: CallOptions): Promise<Droplet | null> {
    try {
      const data = await this.#json('get droplet', o, true, (signal) =>
        this.#api.GET('/v2/droplets/{droplet_id}', { params: { path: { droplet_id: id } }, signal }),
      );
      // A 200 without the droplet is a broken answer: reading it as "gone" would let the reaper
      // mark a live resource GONE (the spec does not make the key required).
      if (!data.droplet) throw new ProviderHttpError(PROVIDER, 'network', 'get droplet: the answer has no droplet');
      return data.droplet;
    } catch (error) {
      if (isProviderError(error) && error.kind === 'not_found') return null;
      throw error;
    }
  }

  /** Every droplet with `tag`, GPU droplets included (a tag_name list is not filtered by type). */
  async listDroplets(tag: string, o: CallOptions): Promise<Droplet[]> {
    const droplets: Droplet[] = [];
    for (let page = 1; page > 0; ) {
      const data = await this.#json(`list droplets (page ${page})`, o, true, (signal) =>
        this.#api.GET('/v2/droplets', {
          params: { query: { tag_name: tag, page, per_page: this.#perPage } },
          signal,
        }),
      );
      // Without the array nothing is known: an empty list here would make release report success.
      if (!Array.isArray(data.droplets)) {
        throw new ProviderHttpError(PROVIDER, 'network', 'list droplets: the answer has no droplets');
      }
      droplets.push(...data.droplets);
      page = nextPage(data.links?.pages, page);
    }
    return droplets;
  }

  /**
   * POST /v2/droplets. Not idempotent: only a 429 is repeated here. After any other failure
   * the droplet may exist, so the caller must look it up by tag before creating again.
   */
  async createDroplet(body: DropletCreate, o: CallOptions): Promise<Droplet> {
    const data = await this.#json('create droplet', o, false, (signal) =>
      this.#api.POST('/v2/droplets', { body, signal }),
    );
    if ('droplet' in data) return data.droplet;
    throw new ProviderHttpError(PROVIDER, 'network', 'create droplet: the answer has no droplet');
  }

  /** DELETE; `gone` when DigitalOcean no longer knows the droplet (404). */
  async deleteDroplet(id: number, o: CallOptions): Promise<'deleted' | 'gone'> {
    try {
      await this.#run('delete droplet', o, true, (signal) =>
        this.#api.DELETE('/v2/droplets/{droplet_id}', { params: { path: { droplet_id: id } }, signal }),
      );
      return 'deleted';
    } catch (error) {
      if (isProviderError(error) && error.kind === 'not_found') return 'gone';
      throw error;
    }
  }

  /**
   * Start an action. Power actions are safe to repeat (powering off an off droplet is a no-op
   * action), so a failed POST is retried like a read.
   */
  async postAction(id: number, type: DropletActionType, o: CallOptions): Promise<DropletAction> {
    const data = await this.#json(`droplet action ${type}`, o, true, (signal) =>
      this.#api.POST('/v2/droplets/{droplet_id}/actions', {
        params: { path: { droplet_id: id } },
        body: { type },
        signal,
      }),
    );
    if (data.action) return data.action;
    throw new ProviderHttpError(PROVIDER, 'network', `droplet action ${type}: the answer has no action`);
  }

  async getAction(id: number, o: CallOptions): Promise<DropletAction> {
    const data = await this.#json('get action', o, true, (signal) =>
      this.#api.GET('/v2/actions/{action_id}', { params: { path: { action_id: id } }, signal }),
    );
    if (data.action) return data.action;
    throw new ProviderHttpError(PROVIDER, 'network', 'get action: the answer has no action');
  }

  /** The account's sizes (to check a catalog against). */
  async listSizes(o: CallOptions): Promise<Size[]> {
    const sizes: Size[] = [];
    for (let page = 1; page > 0; ) {
      const data = await this.#json(`list sizes (page ${page})`, o, true, (signal) =>
        this.#api.GET('/v2/sizes', { params: { query: { page, per_page: this.#perPage } }, signal }),
      );
      sizes.push(...data.sizes);
      page = nextPage(data.links?.pages, page);
    }
    return sizes;
  }

  async listRegions(o: CallOptions): Promise<Region[]> {
    const regions: Region[] = [];
    for (let page = 1; page > 0; ) {
      const data = await this.#json(`list regions (page ${page})`, o, true, (signal) =>
        this.#api.GET('/v2/regions', { params: { query: { page, per_page: this.#perPage } }, signal }),
      );
      regions.push(...data.regions);
      page = nextPage(data.links?.pages, page);
    }
    return regions;
  }
}

/** The page `links.pages.next` points at, or 0 when there is none (or it does not move forward). */
export function nextPage(pages: unknown, current: number): number {
  const next = typeof pages === 'object' && pages !== null ? (pages as { next?: unknown }).next : undefined;
  if (typeof next !== 'string') return 0;
  const page = Number(URL.canParse(next) ? new URL(next).searchParams.get('page') : Number.NaN);
  return Number.isInteger(page) && page > current ? page : 0;
}

/** The droplet's public IPv4 (the first `public` v4 network), if it has one yet. */
export const publicIpv4 = (droplet: Droplet): string | null =>
  droplet.networks.v4?.find((n) => n.type === 'public')?.ip_address ?? null;
