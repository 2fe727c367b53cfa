/**
 * The one GraphQL client: urql over fetch with the signed-in token, no cache (every page reads
 * fresh data and refetches when events arrive). Errors come back as `ApiError` with the API's code.
 */
import { Client, fetchExchange, type TypedDocumentNode } from '@urql/core';

export const GRAPHQL_URL = new URL('/graphql', location.href).href;
const TOKEN_KEY = 'slipway.token';

export const tokenStore = {
  get: (): string | null => localStorage.getItem(TOKEN_KEY),
  set: (token: string) => localStorage.setItem(TOKEN_KEY, token),
  clear: () => localStorage.removeItem(TOKEN_KEY),
};

/** A failed request: top-level GraphQL errors (UNAUTHENTICATED, FORBIDDEN, ...) or the network. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let client = makeClient(tokenStore.get());

function makeClient(token: string | null): Client {
  return new Client({
    url: GRAPHQL_URL,
    exchanges: [fetchExchange],
    requestPolicy: 'network-only',
    fetchOptions: () => (token ? { headers: { authorization: `Bearer ${token}` } } : {}),
  });
}

export function useToken(token: string | null): void {
  client = makeClient(token);
}

type Vars = Record<string, unknown>;

async function run<D, V extends Vars>(kind: 'query' | 'mutation', doc: TypedDocumentNode<D, V>, vars: V): Promise<D> {
  const result = await (kind === 'query' ? client.query(doc, vars) : client.mutation(doc, vars)).toPromise();
  if (result.error) {
    const first = result.error.graphQLErrors[0];
    const code = typeof first?.extensions?.code === 'string' ? first.extensions.code : 'NETWORK_ERROR';
    throw new ApiError(code, first?.message ?? result.error.message);
  }
  if (!result.data) throw new ApiError('NO_DATA', 'The server answered without data.');
  return result.data;
}

export const query = <D, V extends Vars>(doc: TypedDocumentNode<D, V>, vars: V) => run('query', doc, vars);
export const mutate = <D, V extends Vars>(doc: TypedDocumentNode<D, V>, vars: V) => run('mutation', doc, vars);

/** A typed error member of a mutation's result union. */
export interface TypedError {
  __typename: string;
  code: string;
  message: string;
}

/** Splits a result union: the success's `data`, or throws the typed error the API answered as an ApiError. */
export function unwrap<R extends { __typename?: string }>(result: R): Extract<R, { data: unknown }>['data'] {
  if ('data' in result) return (result as Extract<R, { data: unknown }>).data;
  const error = result as Partial<TypedError>;
  throw new ApiError(error.code ?? result.__typename ?? 'ERROR', error.message ?? 'The request failed.');
}
