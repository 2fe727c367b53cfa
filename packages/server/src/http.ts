/**
 * HTTP: graphql-yoga at /graphql (GraphiQL in the browser) plus `GET /healthz`, served
 * by node:http. No framework: yoga is a fetch handler and node:http hosts it directly.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger, Slipway } from '@slipway/core';
import type { GraphQLSchema } from 'graphql';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { ServerConfig } from './config.js';
import { contextFactory, type GraphQLContext } from './context.js';
import { maskError } from './errors/mask-error.js';
import { yogaLogger } from './errors/yoga-logger.js';

export type SlipwayYoga = YogaServerInstance<Record<string, unknown>, GraphQLContext>;

export function createYogaApp(deps: {
  schema: GraphQLSchema;
  slipway: Slipway;
  config: ServerConfig;
  logger: Logger;
}): SlipwayYoga {
  const { slipway, logger } = deps;
  return createYoga<Record<string, unknown>, GraphQLContext>({
    schema: deps.schema,
    graphqlEndpoint: '/graphql',
    graphiql: { title: 'Slipway' },
    landingPage: false,
    context: contextFactory(deps),
    // isDev is pinned off: NODE_ENV=development must never leak original errors to clients.
    maskedErrors: { maskError, isDev: false },
    logging: yogaLogger(logger),
    plugins: [healthz(slipway)],
  });
}

/** `GET /healthz`: 200 `{status:"ok"}` when the database answers, 503 otherwise. */
function healthz(slipway: Slipway): Plugin {
  return {
    async onRequest({ url, request, endResponse, fetchAPI }) {
      if (url.pathname !== '/healthz') return;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        endResponse(new fetchAPI.Response(null, { status: 405, headers: { allow: 'GET, HEAD' } }));
        return;
      }
      let ok = true;
      try {
        // Any trivial query proves the connection (and that migrations ran).
        await slipway.storage.db.selectFrom('accounts').select('id').limit(1).execute();
      } catch {
        ok = false;
      }
      endResponse(fetchAPI.Response.json({ status: ok ? 'ok' : 'error' }, { status: ok ? 200 : 503 }));
    },
  };
}

export interface Listening {
  server: Server;
  /** The bound URL of the GraphQL endpoint (the real port when PORT=0). */
  url: string;
  close(): Promise<void>;
}

export async function listen(yoga: SlipwayYoga, host: string, port: number): Promise<Listening> {
  const server = createServer(yoga);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${shownHost}:${address.port}/graphql`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive sockets would otherwise hold close() open until they time out.
        server.closeAllConnections();
      }),
  };
}
