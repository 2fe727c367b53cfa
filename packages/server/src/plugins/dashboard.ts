/**
 * Serves the dashboard's built files at `/` (packages/dashboard/dist, or the copy the published
 * server ships in its dist/dashboard): hashed files under
 * `/assets/` are immutable for a year, everything else (index.html) is revalidated on every
 * load, so a new build reaches browsers at once. GET and HEAD only; /graphql and the other
 * routes are never shadowed (only `/`, `/index.html`, `/assets/*` and `/favicon.svg` are ours).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'graphql-yoga';

/**
 * Where the dashboard's built files are, first found with an index.html:
 * - packages/dashboard/dist of the workspace (src/plugins/, dist/plugins/ and the esbuild
 *   bundle's dist/bundle/ all sit three levels below packages/), fresh after any dashboard build;
 * - the copy the build puts in the server's own dist/dashboard (`build:dashboard`), which is
 *   what the published package ships: installed from npm there is no workspace around it.
 * Neither built: the workspace folder, so the 404 says to build.
 */
export const WORKSPACE_DASHBOARD_DIR = fileURLToPath(new URL('../../../dashboard/dist/', import.meta.url));
export const SHIPPED_DASHBOARD_DIR = fileURLToPath(new URL('../dashboard/', import.meta.url));

export function defaultDashboardDir(candidates = [WORKSPACE_DASHBOARD_DIR, SHIPPED_DASHBOARD_DIR]): string {
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? WORKSPACE_DASHBOARD_DIR;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

export function dashboardPlugin(dir: string = defaultDashboardDir()): Plugin {
  const root = normalize(dir.endsWith(sep) ? dir : `${dir}${sep}`);
  return {
    async onRequest({ url, request, endResponse, fetchAPI }) {
      const file = dashboardFile(url.pathname);
      if (file === null || (request.method !== 'GET' && request.method !== 'HEAD')) return;
      const path = normalize(join(root, file));
      // normalize() resolved any `..`: the file must still lie inside the dashboard's folder.
      if (!path.startsWith(root)) return;
      let body: Buffer;
      try {
        body = await readFile(path);
      } catch {
        const missing = file === 'index.html' && !existsSync(root);
        const text = missing ? 'The dashboard is not built: run `npm run build`.\n' : 'Not found\n';
        endResponse(new fetchAPI.Response(text, { status: 404, headers: { 'content-type': 'text/plain' } }));
        return;
      }
      const headers = {
        'content-type': TYPES[extname(path)] ?? 'application/octet-stream',
        'cache-control': file.startsWith('assets/') ? IMMUTABLE : REVALIDATE,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
      };
      endResponse(new fetchAPI.Response(request.method === 'HEAD' ? null : new Uint8Array(body), { headers }));
    },
  };
}

/** The dashboard file a path names, or null when the path is not the dashboard's. */
function dashboardFile(pathname: string): string | null {
  if (pathname === '/' || pathname === '/index.html') return 'index.html';
  if (pathname === '/favicon.svg') return 'favicon.svg';
  if (pathname.startsWith('/assets/')) return pathname.slice(1);
  return null;
}
