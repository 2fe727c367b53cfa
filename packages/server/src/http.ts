/**
 * HTTP: graphql-yoga at /graphql (GraphiQL in the browser, unless production) plus `GET /healthz`, the
 * dashboard's files at `/` and the secret-gated `POST /admin/pool-refresh`, served by node:http. No framework: yoga is a
 * fetch handler and node:http hosts it directly.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ErrorCode, isSlipwayError, type Logger, type Slipway } from '@slipway/core';
import type { GraphQLSchema } from 'graphql';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { DEFAULT_POOL_PROVISIONER, problemsOf, refreshPool } from './admin/pool-admin.js';
import type { ServerConfig } from './config.js';
import { type ContextDeps, contextFactory, type GraphQLContext } from './context.js';
import { maskError } from './errors/mask-error.js';
import { yogaLogger } from './errors/yoga-logger.js';
import { bodyLimitPlugin } from './plugins/body-limit.js';
import { dashboardPlugin } from './plugins/dashboard.js';
import { inputPolicyPlugin } from './plugins/input-policy.js';
import { queryLimitPlugins } from './plugins/query-limits.js';
import { requestRateLimitPlugin } from './plugins/request-rate-limit.js';

export type SlipwayYoga = YogaServerInstance<Record<string, unknown>, GraphQLContext>;

export function createYogaApp(deps: ContextDeps & { schema: GraphQLSchema; dashboardDir?: string }): SlipwayYoga {
  const { slipway, logger, config } = deps;
  return createYoga<Record<string, unknown>, GraphQLContext>({
    schema: deps.schema,
    graphqlEndpoint: '/graphql',
    graphiql: config.graphiql ? { title: 'Slipway' } : false,
    landingPage: false,
    // One operation per request: a batch would multiply every limit below by its length.
    batching: false,
    context: contextFactory(deps),
    // isDev is pinned off: NODE_ENV=development must never leak original errors to clients.
    maskedErrors: { maskError, isDev: false },
    logging: yogaLogger(logger),
    // In the order a request meets them: body size, rate, then the document's shape and cost.
    plugins: [
      bodyLimitPlugin(config.queryLimits.maxBodyBytes),
      requestRateLimitPlugin({
        perMinute: config.rateLimitRequestsPerMinute,
        slipway,
        jwtSecret: config.jwtSecret,
        logger,
      }),
      ...queryLimitPlugins({
        ...config.queryLimits,
        introspection: config.introspection,
        fieldSuggestions: config.fieldSuggestions,
        logger,
      }),
      inputPolicyPlugin(),
      healthz(slipway),
      dashboardPlugin(deps.dashboardDir),
      poolRefreshRoute(deps),
    ],
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
        await slipway.storage.ping();
      } catch {
        ok = false;
      }
      endResponse(fetchAPI.Response.json({ status: ok ? 'ok' : 'error' }, { status: ok ? 200 : 503 }));
    },
  };
}

export const POOL_REFRESH_PATH = '/admin/pool-refresh';

/** HTTP status of a refused pool refresh, by error code; anything else is 500. */
const REFRESH_STATUS: Partial<Record<ErrorCode, number>> = {
  VALIDATION_FAILED: 422,
  NOT_FOUND: 404,
  PROVISIONER_FAILED: 502,
  PROVISIONER_INVALID_OUTPUT: 502,
  PROVISIONER_TIMEOUT: 504,
  PROVISIONER_ABORTED: 503,
};

/**
 * `POST /admin/pool-refresh[?provisioner=pool]`: the `refreshPool` mutation for scripts and
 * cron, gated by `Authorization: Bearer <SLIPWAY_ADMIN_SECRET>` instead of a JWT. Without a
 * configured secret the route does not exist (404).
 */
function poolRefreshRoute(deps: { slipway: Slipway; config: ServerConfig; logger: Logger }): Plugin {
  const secret = deps.config.adminSecret;
  const secretDigest = secret === null ? null : sha256(secret);
  return {
    async onRequest({ url, request, endResponse, fetchAPI }) {
      if (url.pathname !== POOL_REFRESH_PATH) return;
      const fail = (status: number, code: string, message: string, extra: Record<string, unknown> = {}) =>
        endResponse(fetchAPI.Response.json({ error: { code, message, ...extra } }, { status, headers: noStore() }));
      if (secretDigest === null) {
        fail(404, 'NOT_FOUND', `${POOL_REFRESH_PATH} is disabled: set SLIPWAY_ADMIN_SECRET to enable it`);
        return;
      }
      if (request.method !== 'POST') {
        endResponse(
          fetchAPI.Response.json(
            { error: { code: 'METHOD_NOT_ALLOWED', message: `${POOL_REFRESH_PATH} takes POST` } },
            { status: 405, headers: { ...noStore(), allow: 'POST' } },
          ),
        );
        return;
      }
      if (!presentsSecret(request, secretDigest)) {
        endResponse(
          fetchAPI.Response.json(
            {
              error: {
                code: 'UNAUTHENTICATED',
                message: 'Send the admin secret as Authorization: Bearer <SLIPWAY_ADMIN_SECRET>',
              },
            },
            { status: 401, headers: { ...noStore(), 'www-authenticate': 'Bearer' } },
          ),
        );
        return;
      }
      const provisioner = url.searchParams.get('provisioner') || DEFAULT_POOL_PROVISIONER;
      try {
        const result = await refreshPool(deps, provisioner, { actorId: null, via: 'http' });
        endResponse(fetchAPI.Response.json({ ...result }, { status: 200, headers: noStore() }));
      } catch (error) {
        if (!isSlipwayError(error)) {
          deps.logger.error('pool refresh failed', {
            error: error instanceof Error ? (error.stack ?? error.message) : String(error),
          });
          fail(500, 'INTERNAL_SERVER_ERROR', 'Unexpected error.');
          return;
        }
        const status = REFRESH_STATUS[error.code] ?? 500;
        if (status === 500) deps.logger.error('pool refresh failed', { code: error.code, error: error.message });
        const problems = problemsOf(error.details);
        fail(status, error.code, error.message, problems ? { problems } : {});
      }
    },
  };
}

/**
 * Fresh headers for every response: the fetch implementation writes `content-length` into a
 * plain headers object it is given, so a shared constant would carry one answer's length
 * into the next (a cut 401 body, a 404 that hangs the client).
 */
const noStore = (): Record<string, string> => ({ 'cache-control': 'no-store' });

const sha256 = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * True when the request carries `Authorization: Bearer <secret>`. Both sides are hashed so
 * the constant-time comparison sees equal lengths and leaks neither the secret nor its length.
 */
function presentsSecret(request: Request, secretDigest: Buffer): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '');
  const presented = sha256(match?.[1] ?? '');
  return timingSafeEqual(presented, secretDigest) && match !== null;
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
