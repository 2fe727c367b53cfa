/** Root types. Every root field needs a valid token unless it opts out (only `health` does). */
import { builder } from '../builder.js';

builder.queryType({
  authScopes: { authenticated: true },
  fields: (t) => ({
    health: t.string({
      description: 'Always "ok"; needs no token. HTTP probes should use GET /healthz, which also checks the database.',
      skipTypeScopes: true,
      resolve: () => 'ok',
    }),
  }),
});

builder.mutationType({ authScopes: { authenticated: true } });

/** Live updates over Server-Sent Events (`accept: text/event-stream` on /graphql). */
builder.subscriptionType({ authScopes: { authenticated: true } });
