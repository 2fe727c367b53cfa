import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

const SECRET = 'x'.repeat(32);

describe('loadConfig', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-config-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('has defaults for everything on the embedded database', () => {
    const dir = tmp();
    const config = loadConfig({ INIT_CWD: dir });
    expect(config).toMatchObject({
      port: 4000,
      host: '127.0.0.1',
      dataDir: join(dir, '.slipway'),
      database: { dataDir: join(dir, '.slipway') },
      embedded: true,
      adminSecret: null,
      provisionerDemo: true,
      logLevel: 'info',
      holdTtlSeconds: 900,
      hosts: { heartbeatMs: 5000, staleAfterMs: 30000 },
    });
    expect(config.jwtSecret.length).toBeGreaterThanOrEqual(32);
  });

  it('parses every variable', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      DATABASE_URL: 'postgres://u:p@db:5432/slipway',
      SLIPWAY_JWT_SECRET: SECRET,
      SLIPWAY_ADMIN_SECRET: 'a'.repeat(16),
      PROVISIONER_DEMO: '0',
      LOG_LEVEL: 'warn',
      SLIPWAY_HOLD_TTL_SECONDS: '60',
      SLIPWAY_HOST_HEARTBEAT_MS: '1000',
      SLIPWAY_HOST_STALE_AFTER_MS: '4000',
    });
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      database: { url: 'postgres://u:p@db:5432/slipway' },
      embedded: false,
      jwtSecret: SECRET,
      adminSecret: 'a'.repeat(16),
      provisionerDemo: false,
      logLevel: 'warn',
      holdTtlSeconds: 60,
      hosts: { heartbeatMs: 1000, staleAfterMs: 4000 },
    });
  });

  it.each([
    [{ PORT: 'abc' }, /^PORT: .*"abc"/],
    [{ PORT: '70000' }, /^PORT: /],
    [{ PROVISIONER_DEMO: 'maybe' }, /^PROVISIONER_DEMO: /],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL: /],
    [{ SLIPWAY_HOLD_TTL_SECONDS: '-5' }, /^SLIPWAY_HOLD_TTL_SECONDS: /],
    [{ SLIPWAY_JWT_SECRET: 'short' }, /^SLIPWAY_JWT_SECRET: must be at least 32/],
    [{ SLIPWAY_ADMIN_SECRET: 'short', SLIPWAY_JWT_SECRET: SECRET }, /^SLIPWAY_ADMIN_SECRET: /],
    [{ DATABASE_URL: 'mysql://x', SLIPWAY_JWT_SECRET: SECRET }, /^DATABASE_URL: /],
    [{ SLIPWAY_HOST_HEARTBEAT_MS: '50' }, /^SLIPWAY_HOST_HEARTBEAT_MS: /],
    [
      { SLIPWAY_HOST_HEARTBEAT_MS: '5000', SLIPWAY_HOST_STALE_AFTER_MS: '5000' },
      /^SLIPWAY_HOST_STALE_AFTER_MS: must be longer than SLIPWAY_HOST_HEARTBEAT_MS/,
    ],
  ])('rejects %o naming the variable', (env, message) => {
    expect(() => loadConfig({ SLIPWAY_DATA_DIR: tmp(), ...env })).toThrow(message);
  });

  it('never echoes a secret in the error', () => {
    expect(() => loadConfig({ SLIPWAY_JWT_SECRET: 'hunter2' })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('hunter2') }),
    );
  });

  it('requires SLIPWAY_JWT_SECRET with DATABASE_URL', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://localhost/slipway' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringMatching(/^SLIPWAY_JWT_SECRET: /) }),
    );
  });

  it('generates the embedded JWT secret once (mode 0600) and reuses it', () => {
    const dir = join(tmp(), 'data');
    const first = loadConfig({ SLIPWAY_DATA_DIR: dir });
    const file = join(dir, 'jwt-secret');
    expect(readFileSync(file, 'utf8').trim()).toBe(first.jwtSecret);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadConfig({ SLIPWAY_DATA_DIR: dir }).jwtSecret).toBe(first.jwtSecret);
    // An explicit secret wins over the file.
    expect(loadConfig({ SLIPWAY_DATA_DIR: dir, SLIPWAY_JWT_SECRET: SECRET }).jwtSecret).toBe(SECRET);
    writeFileSync(file, 'too-short');
    expect(() => loadConfig({ SLIPWAY_DATA_DIR: dir })).toThrow(/^SLIPWAY_JWT_SECRET: /);
  });

  it('resolves a relative SLIPWAY_DATA_DIR against where npm was started', () => {
    const dir = tmp();
    expect(loadConfig({ INIT_CWD: dir, SLIPWAY_DATA_DIR: 'state', SLIPWAY_JWT_SECRET: SECRET }).dataDir).toBe(
      join(dir, 'state'),
    );
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ PORT: '', SLIPWAY_JWT_SECRET: SECRET, SLIPWAY_DATA_DIR: tmp() }).port).toBe(4000);
  });
});
