#!/usr/bin/env node
// `npx slipway …`: the built CLI, bundled (dist/bundle, one file set instead of ~1,200 modules to
// load: about a second faster to start). In a clone, `npm install` builds it (root `prepare`);
// `npm run build` rebuilds it.
import { existsSync } from 'node:fs';

const main = new URL('../dist/bundle/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(`slipway: ${main.pathname} is missing; run \`npm run build\` at the repository root.\n`);
  process.exit(1);
}
await import(main.href);
