// `npm run build:assets -w @slipway/core` (after tsc): writes dist/pglite-template.tar.gz and its
// fingerprint, the migrated PGlite data directory a new embedded database starts from.
// Runs the built code, so the dump is made by the migrations that ship. `--force` rewrites it.
import { fileURLToPath } from 'node:url';
import { buildPgliteTemplate } from '../dist/storage/build-pglite-template.js';
import { TEMPLATE_FILE_NAME } from '../dist/storage/pglite-template.js';

const file = fileURLToPath(new URL(`../dist/${TEMPLATE_FILE_NAME}`, import.meta.url));
const started = performance.now();
const result = await buildPgliteTemplate(file, { force: process.argv.includes('--force') });
const seconds = ((performance.now() - started) / 1000).toFixed(1);
process.stdout.write(
  result === 'written' ? `wrote ${file} (${seconds} s)\n` : `${file} is current (same PGlite, same migrations)\n`,
);
