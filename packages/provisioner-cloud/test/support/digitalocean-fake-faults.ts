/** The DigitalOcean fake's fault injection: one-shot (or N-shot) failures matched by method and path. */

export type FaultKind =
  /** 429 before processing, with ratelimit-remaining 0, ratelimit-reset and retry-after. */
  | 'rate_limit'
  /** 500 before processing. */
  | 'server_error'
  /** Processed, then answered after `delayMs` (beyond the client's time-out). */
  | 'slow'
  /** Held `delayMs` before it is processed: a create the client gave up on still builds a droplet, later. */
  | 'stall'
  /** Processed, then answered with a body that is not JSON. */
  | 'malformed_json'
  /** Processed (a create stores its droplet), then the connection drops. */
  | 'lost_reply'
  /** 422 "will exceed your droplet limit" instead of a create. */
  | 'droplet_limit'
  /** 422 "pending event" instead of a delete or an action. */
  | 'pending_event';

export interface FaultOptions {
  /** How many matching requests fail (default 1). */
  times?: number;
  /** Only requests with this method (GET, POST, DELETE). */
  method?: string;
  /** Only requests whose spec path template is this (`/v2/droplets`, `/v2/droplets/{droplet_id}`). */
  path?: string;
  /** Let this many matching requests through before the fault starts. */
  skip?: number;
  delayMs?: number;
  retryAfterSeconds?: number;
}

export interface Fault extends FaultOptions {
  readonly kind: FaultKind;
  remaining: number;
}

export class FaultQueue {
  readonly #faults: Fault[] = [];

  add(kind: FaultKind, options: FaultOptions = {}): void {
    this.#faults.push({ ...options, kind, remaining: options.times ?? 1 });
  }

  /** The first armed fault of one of `kinds` matching the request, used up by one. */
  take(method: string, template: string, kinds: readonly FaultKind[]): Fault | undefined {
    for (const f of this.#faults) {
      const matches = kinds.includes(f.kind) && (!f.method || f.method === method) && (!f.path || f.path === template);
      if (!matches || f.remaining <= 0) continue;
      if (f.skip) {
        f.skip--;
        continue;
      }
      f.remaining--;
      return f;
    }
    return undefined;
  }

  /** Faults not yet used up (a test can assert its faults were all hit). */
  get armed(): number {
    return this.#faults.reduce((n, f) => n + f.remaining, 0);
  }
}
