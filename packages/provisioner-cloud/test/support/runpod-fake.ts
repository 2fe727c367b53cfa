/**
 * A stateful fake of RunPod's GraphQL endpoint for msw 2. It really executes each incoming
 * document with graphql-js against graphql/runpod.graphql, so a document that drifts from the
 * schema fails here as it would at RunPod (HTTP 400). Statuses follow cloud-apis.md B.1:
 * 401 for a missing or bad key (Bearer or `?api_key=`), 200 with `errors[]` for business errors.
 *
 * Faults are queued per root field (`podFindAndDeployOnDemand`, `pod`, `myself`, `*`) and
 * consumed in order, one per matching request.
 */
import { readFileSync } from 'node:fs';
import {
  buildSchema,
  type DocumentNode,
  type ExecutionResult,
  execute,
  type GraphQLSchema,
  Kind,
  parse,
  validate,
} from 'graphql';
import { delay, HttpResponse, http } from 'msw';
import { PodStore } from './runpod-pods.js';

export { CAPACITY_MESSAGES } from './runpod-pods.js';

const SCHEMA_PATH = new URL('../../graphql/runpod.graphql', import.meta.url);
let schema: GraphQLSchema | undefined;
export const runpodSchema = (): GraphQLSchema => {
  schema ??= buildSchema(readFileSync(SCHEMA_PATH, 'utf8'));
  return schema;
};

export type RunpodFault =
  /** 429 with Retry-After and RateLimit headers; nothing executed. */
  | { kind: 'rateLimit'; retryAfterSeconds?: number }
  /** A 5xx; nothing executed. */
  | { kind: 'http'; status: number }
  /** Answer after `ms` (executed then, unless the client has gone). */
  | { kind: 'delay'; ms: number }
  /** Executed, but the body is not JSON. */
  | { kind: 'malformed' }
  /** Executed (a create stores its pod), then the connection drops: the reply is lost. */
  | { kind: 'lostReply' }
  /** 200 with `errors[]` INTERNAL_SERVER_ERROR; nothing executed. */
  | { kind: 'internal' }
  /** Executed after `ms` even when the client has given up (a create RunPod finishes after our time-out). */
  | { kind: 'stall'; ms: number }
  /** HTTP 200 with this body; nothing executed (an answer without data, partial data, an echo). */
  | { kind: 'reply'; body: Record<string, unknown> };

export interface RunpodFakeOptions {
  readonly url?: string;
  readonly apiKey?: string;
  /** `pod` polls before a new or resumed pod's runtime (and SSH port) appears. Default 2. */
  readonly readyAfterPolls?: number;
  /** Per GPU type id, another number of polls (a slow start). */
  readonly readyAfterPollsFor?: Readonly<Record<string, number>>;
}

export interface RecordedRequest {
  readonly field: string;
  readonly variables: Record<string, unknown>;
  /** The HTTP status answered; 0 when the connection was dropped (a lost reply, a client that gave up). */
  status: number;
}

const RATE_LIMIT_HEADERS = {
  RateLimit: '"minute";r=0;t=12, "hour";r=2800;t=1812, "day";r=49500;t=45012',
  'RateLimit-Policy': '"minute";q=60;w=60, "hour";q=3000;w=3600, "day";q=50000;w=86400',
};

export class RunpodFake {
  readonly url: string;
  readonly apiKey: string;
  readonly store: PodStore;
  readonly requests: RecordedRequest[] = [];
  readonly #faults: { field: string; fault: RunpodFault }[] = [];
  /** The msw handler: `setupServer(fake.handler)`. */
  readonly handler;

  constructor(options: RunpodFakeOptions = {}) {
    this.url = options.url ?? 'https://api.runpod.test/graphql';
    this.apiKey = options.apiKey ?? 'rp_test_0123456789abcdef';
    this.store = new PodStore(options.readyAfterPolls ?? 2, options.readyAfterPollsFor);
    this.handler = http.post(this.url, ({ request }) => this.#handle(request));
  }

  /** Queue a fault for the next request whose root field is `field` (`*`: any). */
  fail(field: string, fault: RunpodFault, times = 1): this {
    for (let i = 0; i < times; i++) this.#faults.push({ field, fault });
    return this;
  }

  /** The next create answers with a capacity error (HTTP 200, `errors[]`). */
  noCapacityOnNextCreate(message: string = CAPACITY_MESSAGE): this {
    this.store.capacityOnNextCreate = message;
    return this;
  }

  /** Pods that exist now. */
  get pods() {
    return [...this.store.pods.values()];
  }

  count(field: string): number {
    return this.requests.filter((r) => r.field === field).length;
  }

  async #handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const auth = request.headers.get('authorization');
    const key = auth?.startsWith('Bearer ') ? auth.slice(7) : url.searchParams.get('api_key');
    const body = (await request.json().catch(() => null)) as {
      query?: unknown;
      variables?: Record<string, unknown>;
    } | null;
    let document: DocumentNode | undefined;
    try {
      document = parse(typeof body?.query === 'string' ? body.query : '');
    } catch {
      // answered with 400 below
    }
    // Recorded on arrival: a test sees a request even when its client gave up on it.
    const record: RecordedRequest = {
      field: document ? rootField(document) : '?',
      variables: body?.variables ?? {},
      status: 0,
    };
    this.requests.push(record);
    if (key !== this.apiKey) return reply(record, 401, { error: 'Unauthorized' });
    if (!document) return reply(record, 400, { errors: [{ message: 'Syntax Error: not a GraphQL document' }] });
    const invalid = validate(runpodSchema(), document);
    if (invalid.length) {
      const errors = invalid.map((e) => ({ ...e.toJSON(), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }));
      return reply(record, 400, { errors });
    }
    const index = this.#faults.findIndex((f) => f.field === record.field || f.field === '*');
    const fault = index >= 0 ? this.#faults.splice(index, 1)[0]?.fault : undefined;

    switch (fault?.kind) {
      case 'rateLimit':
        return reply(
          record,
          429,
          { errors: [{ message: 'Too Many Requests' }] },
          {
            'Retry-After': String(fault.retryAfterSeconds ?? 1),
            ...RATE_LIMIT_HEADERS,
          },
        );
      case 'http':
        return reply(record, fault.status, { message: 'upstream error' });
      case 'internal':
        return reply(record, 200, {
          errors: [
            {
              message: 'Something went wrong. Please try again later or contact support.',
              extensions: { code: 'INTERNAL_SERVER_ERROR' },
            },
          ],
        });
      case 'reply':
        return reply(record, 200, fault.body);
      case 'stall': {
        // The work is done later whatever the client does; the client gets the answer if it still waits.
        await delay(fault.ms);
        const body = this.#execute(document, record.variables);
        if (request.signal.aborted) return HttpResponse.error();
        return reply(record, 200, body);
      }
      case 'delay':
        await delay(fault.ms);
        // The client gave up: like a server whose client hung up, nothing is done.
        if (request.signal.aborted) return HttpResponse.error();
        break;
      default:
    }

    const result = this.#execute(document, record.variables);
    if (fault?.kind === 'lostReply') return HttpResponse.error();
    if (fault?.kind === 'malformed') {
      record.status = 200;
      return new HttpResponse('<html>502 Bad Gateway</html>{"data":', {
        status: 200,
        headers: { 'content-type': 'application/json' },
      });
    }
    return reply(record, 200, result);
  }

  #execute(document: DocumentNode, variables: Record<string, unknown>): Record<string, unknown> {
    // Resolvers are synchronous: execute() returns the result at once.
    const result = execute({
      schema: runpodSchema(),
      document,
      rootValue: this.store.rootValue(),
      variableValues: variables,
    }) as ExecutionResult;
    return result.errors
      ? { errors: result.errors.map((e) => e.toJSON()), data: result.data ?? null }
      : { data: result.data };
  }
}

function reply(record: RecordedRequest, status: number, body: Record<string, unknown>, headers = {}): Response {
  record.status = status;
  return HttpResponse.json(body, { status, headers });
}

export const CAPACITY_MESSAGE =
  'There are no longer any instances available with the requested specifications. Please refresh and try again.';

function rootField(document: DocumentNode): string {
  for (const def of document.definitions) {
    if (def.kind !== Kind.OPERATION_DEFINITION) continue;
    const first = def.selectionSet.selections[0];
    if (first?.kind === Kind.FIELD) return first.name.value;
  }
  return '?';
}
