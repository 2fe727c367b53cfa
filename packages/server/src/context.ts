/** What every resolver gets: who is calling (or null), the core, and the server config. */
import type { Actor, Logger, Slipway } from '@slipway/core';
import type { PoolProvisioner } from '@slipway/provisioner-pool';
import { authenticate, type TokenProblem } from './auth.js';
import type { ServerConfig } from './config.js';
import { EventStreams } from './event-streams.js';

export interface GraphQLContext {
  actor: Actor | null;
  /** Set when a token was presented but refused, so the error can say why. */
  tokenProblem: TokenProblem | null;
  slipway: Slipway;
  config: ServerConfig;
  logger: Logger;
  /** The registered pool provisioners by name, for the admin pool view. */
  pools: ReadonlyMap<string, PoolProvisioner>;
  /** Aborted when the client goes away; ends subscriptions promptly. */
  signal: AbortSignal;
  /** When the caller's token expires (null: no token, or one without `exp`). */
  tokenExpiresAt: Date | null;
  /** This replica's open event subscriptions (a cap per account, an end at token expiry). */
  streams: EventStreams;
}

export type ContextDeps = Pick<GraphQLContext, 'slipway' | 'config' | 'logger' | 'pools'>;

export function contextFactory(deps: ContextDeps) {
  const streams = new EventStreams({
    perAccount: deps.config.maxSubscriptionsPerAccount,
    total: deps.config.maxSubscriptions,
  });
  return async ({ request }: { request: Request }): Promise<GraphQLContext> => {
    const auth = await authenticate(request, deps.config.jwtSecret);
    return {
      ...deps,
      actor: auth?.actor ?? null,
      tokenProblem: auth?.problem ?? null,
      tokenExpiresAt: auth?.problem === null ? auth.expiresAt : null,
      signal: request.signal,
      streams,
    };
  };
}

/** The caller of a field behind the `authenticated` scope (scope-auth has run already). */
export function actorOf(ctx: GraphQLContext): Actor {
  if (!ctx.actor) throw new Error('actorOf() used on a field without the authenticated scope');
  return ctx.actor;
}
