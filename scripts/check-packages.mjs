#!/usr/bin/env node
// `npm run check:packages`: publint (strict) and Are the Types Wrong (ESM-only profile) on the tarballs
// `npm pack` makes of every published workspace package (the private dashboard is not published on
// its own: its built files ride in @slipway/server's dist/dashboard). Pass tarball paths to check those
// instead of packing (the pack-and-install test does, so CI packs once).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// The binaries directly, not through npx: its start-up costs seconds per call.
const run = (bin, args) => execFileSync(join(root, 'node_modules/.bin', bin), args, { cwd: root, stdio: 'inherit' });

let tarballs = process.argv.slice(2);
let packDir;
if (tarballs.length === 0) {
  packDir = mkdtempSync(join(tmpdir(), 'slipway-check-'));
  const published = readdirSync(join(root, 'packages')).filter(
    (dir) => !JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')).private,
  );
  const workspaces = published.flatMap((dir) => ['-w', `packages/${dir}`]);
  const packed = execFileSync('npm', ['pack', ...workspaces, '--json', '--pack-destination', packDir], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  tarballs = JSON.parse(packed).map((p) => join(packDir, p.filename));
}
try {
  for (const tarball of tarballs) {
    run('publint', ['run', '--strict', tarball]);
    // ESM only by choice: attw's esm-only profile ignores the node10 and CommonJS-require resolutions.
    run('attw', [tarball, '--profile', 'esm-only', '--format', 'table-flipped', '--no-emoji']);
  }
} finally {
  if (packDir) rmSync(packDir, { recursive: true, force: true });
}
