/** `demoToken`: what the dashboard's sign-in page offers on the embedded demo (see demo-token.ts). */
import { builder } from '../builder.js';
import { mintDemoToken, offersDemoToken } from '../demo-token.js';

builder.queryFields((t) => ({
  demoToken: t.string({
    nullable: true,
    skipTypeScopes: true,
    description:
      'The demo admin token `slipway serve` prints, so a sign-in page can offer it. Needs no token. Only on the ' +
      'embedded default (no DATABASE_URL) with PROVISIONER_DEMO on and HOST a loopback address; null elsewhere.',
    resolve: (_root, _args, ctx) => (offersDemoToken(ctx.config) ? mintDemoToken(ctx.config) : null),
  }),
}));
