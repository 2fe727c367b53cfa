#!/usr/bin/env node
// `npx slipway …`: load tsx's hooks (what `node --import tsx` does), then run the TypeScript CLI.
await import('tsx');
await import('../src/main.ts');
