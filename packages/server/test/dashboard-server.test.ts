/** What the dashboard needs of the server: its files at `/`, the demo token, admin release lags. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultDashboardDir, SHIPPED_DASHBOARD_DIR, WORKSPACE_DASHBOARD_DIR } from '../src/plugins/dashboard.js';
import { createTestApp, ERROR_FIELDS, SPEC, type TestApp } from './helpers.js';

describe('dashboard files at /', () => {
  let t: TestApp;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'slipway-dash-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Slipway</title>');
    writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
    t = await createTestApp({ dashboardDir: dir });
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const get = (path: string, method = 'GET') => t.app.yoga.fetch(`http://localhost${path}`, { method });

  it('serves index.html revalidated and hashed assets immutable', async () => {
    const index = await get('/');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(await index.text()).toContain('<title>Slipway</title>');
    const asset = await get('/assets/index-abc123.js');
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('x-content-type-options')).toBe('nosniff');
    const head = await get('/', 'HEAD');
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('answers 404 for missing assets and never leaves its folder', async () => {
    expect((await get('/assets/nope.js')).status).toBe(404);
    expect((await get('/assets/%2e%2e/%2e%2e/package.json')).status).toBe(404);
    expect((await get('/assets/..%2f..%2fpackage.json')).status).toBe(404);
  });

  it('leaves /graphql and /healthz alone', async () => {
    expect((await get('/healthz')).status).toBe(200);
    const res = await t.app.yoga.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ health }' }),
    });
    expect(await res.json()).toEqual({ data: { health: 'ok' } });
  });

  it('says how to build when the dashboard is not built', async () => {
    const bare = await createTestApp({ dashboardDir: join(dir, 'missing') });
    try {
      const res = await bare.app.yoga.fetch('http://localhost/');
      expect(res.status).toBe(404);
      expect(await res.text()).toContain('npm run build');
    } finally {
      await bare.close();
    }
  });

  it("finds the workspace's build first, else the copy a published server ships in dist/dashboard", () => {
    const missing = join(dir, 'missing');
    expect(defaultDashboardDir([missing, dir])).toBe(dir);
    expect(defaultDashboardDir([dir, missing])).toBe(dir);
    // Neither built: the workspace folder, whose 404 says to build.
    expect(defaultDashboardDir([missing, join(dir, 'assets')])).toBe(WORKSPACE_DASHBOARD_DIR);
    expect(SHIPPED_DASHBOARD_DIR).toMatch(/packages\/server\/(src|dist)\/dashboard\/$/);
  });
});

describe('demoToken', () => {
  it('is the demo admin token on the embedded demo bound to loopback, and works', async () => {
    const t = await createTestApp();
    try {
      const res = await t.gql<{ demoToken: string }>('{ demoToken }');
      const token = res.data?.demoToken;
      expect(typeof token).toBe('string');
      const me = await t.gql('{ me { id role } }', {}, token);
      expect(me.data).toEqual({ me: { id: 'admin', role: 'ADMIN' } });
    } finally {
      await t.close();
    }
  });

  it.each([
    ['on a public address', { HOST: '0.0.0.0' }],
    ['without the demo provisioner', { PROVISIONER_DEMO: 'false' }],
  ])('is null %s', async (_name, env) => {
    const t = await createTestApp({ env });
    try {
      expect((await t.gql('{ demoToken }')).data).toEqual({ demoToken: null });
    } finally {
      await t.close();
    }
  });
});

describe('releaseLag', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());
  const LAG =
    'query($kind: LagKind!, $first: Int) { releaseLag(kind: $kind, first: $first) { resourceId provisioner at seconds } }';

  it('gives admins a sample per released machine and refuses users', async () => {
    const admin = await t.tokenFor('admin', 'admin');
    const alice = await t.tokenFor('alice');
    await t.gql(
      'mutation($i: GrantCreditsInput!) { grantCredits(input: $i) { __typename } }',
      { i: { accountId: 'alice', amount: 100 } },
      admin,
    );
    const created = await t.gql<{ createResource: { data: { id: string } } }>(
      `mutation($i: CreateResourceInput!) { createResource(input: $i) {
         ... on MutationCreateResourceSuccess { data { id } } ${ERROR_FIELDS} } }`,
      { i: { name: 'lag', provisioner: 'demo', spec: SPEC } },
      alice,
    );
    const id = created.data?.createResource.data.id;
    await t.gql('mutation($id: ID!) { releaseResource(id: $id) { __typename } }', { id }, alice);
    const lag = await t.gql<{ releaseLag: Array<{ resourceId: string; seconds: number }> }>(
      LAG,
      { kind: 'DELETION' },
      admin,
    );
    expect(lag.data?.releaseLag).toEqual([
      { resourceId: id, provisioner: 'demo', at: expect.any(String), seconds: expect.any(Number) },
    ]);
    expect((await t.gql(LAG, { kind: 'EXPIRY' }, admin)).data).toEqual({ releaseLag: [] });
    const refused = await t.gql(LAG, { kind: 'DELETION' }, alice);
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const bad = await t.gql(LAG, { kind: 'DELETION', first: 5000 }, admin);
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION_FAILED', field: 'first' });
  });
});
