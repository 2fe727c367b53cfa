/**
 * The RunPod GraphQL transport: POSTs a typed document, runs every call under the provider
 * policy, and classifies failures once. RunPod answers business errors (no capacity, unknown
 * pod) with HTTP 200 and `errors[]`, so those are classified from the message as well.
 * The API key travels only in the Authorization header; it is never logged nor put in an error.
 */
import type { Logger } from '@slipway/core';
import type { TadaDocumentNode } from 'gql.tada';
import { type DocumentNode, print } from 'graphql';
import { httpError, type ProviderFailureKind, ProviderHttpError } from '../shared/provider-error.js';
import type { ProviderPolicy } from '../shared/provider-policy.js';

export const PROVIDER = 'runpod';

export interface RunpodClientOptions {
  readonly apiKey: string;
  readonly baseUrl: string;
  readonly policy: ProviderPolicy;
  /** Default: the global fetch, looked up at call time (so test interceptors apply). */
  readonly fetch?: typeof fetch;
}

export interface CallOptions {
  /** What the call does, for logs and the user's error message. */
  readonly what: string;
  readonly signal: AbortSignal;
  /** False for a create: the policy repeats it only after a 429. */
  readonly idempotent: boolean;
  readonly logger?: Logger;
}

/** The first entry of a GraphQL `errors[]`, as RunPod sends it. */
interface GraphqlErrorEntry {
  readonly message?: unknown;
  readonly extensions?: { readonly code?: unknown } | null;
}

const CAPACITY = /^There are no longer any instances available/i;
const TERMINATE_NOT_FOUND = /^pod not found to terminate/i;
const SERVER = /^Something went wrong/i;

/** Classify an HTTP-200 GraphQL error. `pod not found to terminate` is `not_found` with that errorId. */
export function graphqlError(entry: GraphqlErrorEntry, requestId?: string): ProviderHttpError {
  const message = typeof entry.message === 'string' ? entry.message : 'GraphQL error without a message';
  const code = typeof entry.extensions?.code === 'string' ? entry.extensions.code : undefined;
  const kind: ProviderFailureKind = CAPACITY.test(message)
    ? 'capacity'
    : TERMINATE_NOT_FOUND.test(message)
      ? 'not_found'
      : code === 'INTERNAL_SERVER_ERROR' || SERVER.test(message)
        ? 'server'
        : code === 'UNAUTHENTICATED' || code === 'FORBIDDEN'
          ? 'auth'
          : 'client';
  const errorId = kind === 'not_found' ? 'pod not found to terminate' : code;
  return new ProviderHttpError(PROVIDER, kind, `GraphQL error${code ? ` ${code}` : ''}: ${message}`, {
    ...(requestId ? { requestId } : {}),
    ...(errorId ? { errorId } : {}),
  });
}

export class RunpodClient {
  readonly #options: RunpodClientOptions;
  readonly #printed = new WeakMap<DocumentNode, string>();

  constructor(options: RunpodClientOptions) {
    this.#options = options;
  }

  /** Send `document` with `variables`; resolves to `data` or throws a ProviderHttpError. */
  request<Result, Variables>(
    document: TadaDocumentNode<Result, Variables>,
    variables: Variables,
    opts: CallOptions,
  ): Promise<Result> {
    return this.#options.policy.run(opts.what, (signal) => this.#send(document, variables, signal), opts);
  }

  async #send<Result, Variables>(
    document: TadaDocumentNode<Result, Variables>,
    variables: Variables,
    signal: AbortSignal,
  ): Promise<Result> {
    const doFetch = this.#options.fetch ?? globalThis.fetch;
    const response = await doFetch(this.#options.baseUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        authorization: `Bearer ${this.#options.apiKey}`,
      },
      body: JSON.stringify({ query: this.#print(document), variables }),
      signal,
    });
    const text = await response.text();
    if (!response.ok) throw httpError(PROVIDER, response, text);
    // A body that is not JSON throws a SyntaxError, which the policy classifies as 'network'.
    const body: unknown = JSON.parse(text);
    if (!body || typeof body !== 'object') throw malformed('the body is not a JSON object');
    const { data, errors } = body as { data?: unknown; errors?: unknown };
    if (Array.isArray(errors) && errors.length > 0) {
      const first: unknown = errors[0];
      throw graphqlError(
        first && typeof first === 'object' ? first : {},
        response.headers.get('x-request-id') ?? undefined,
      );
    }
    if (!data || typeof data !== 'object') throw malformed('the body has neither data nor errors');
    // The document was typed against the schema; the fake and the schema check keep them agreed.
    return data as Result;
  }

  #print(document: DocumentNode): string {
    let text = this.#printed.get(document);
    if (text === undefined) {
      text = print(document);
      this.#printed.set(document, text);
    }
    return text;
  }
}

const malformed = (why: string) => new ProviderHttpError(PROVIDER, 'network', `malformed answer: ${why}`);
