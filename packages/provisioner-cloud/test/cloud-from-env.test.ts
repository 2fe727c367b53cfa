/**
 * `cloudProvisionersFromEnv`: a provider is registered only when its secret is configured
 * (environment or SLIPWAY_CLOUD_CONFIG), the environment wins, base URLs are configurable,
 * and a bad configuration stops start-up with CONFIG_INVALID that never echoes a secret.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSlipwayError } from '@slipway/core';
import { describe, expect, it } from 'vitest';
import { cloudProvisionersFromEnv } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'cloud-env-'));
const file = (name: string, content: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};
const names = (env: NodeJS.ProcessEnv) => cloudProvisionersFromEnv(env).map((p) => p.name);

function configError(env: NodeJS.ProcessEnv): { code: string; message: string } {
  try {
    cloudProvisionersFromEnv(env);
  } catch (error) {
    if (isSlipwayError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected CONFIG_INVALID');
}

describe('cloud provisioners from the environment', () => {
  it('registers nothing without a secret, and each provider whose secret is set', () => {
    expect(names({})).toEqual([]);
    expect(names({ DIGITALOCEAN_TOKEN: 'dop_v1_x' })).toEqual(['digitalocean']);
    expect(names({ RUNPOD_API_KEY: 'rp_x' })).toEqual(['runpod']);
    expect(names({ DIGITALOCEAN_TOKEN: 'dop_v1_x', RUNPOD_API_KEY: 'rp_x' })).toEqual(['digitalocean', 'runpod']);
    // A catalog alone registers nothing: the secret is what turns a provider on.
    const catalogOnly = file('catalog.json', { digitalocean: { tagPrefix: 'acme-' } });
    expect(names({ SLIPWAY_CLOUD_CONFIG: catalogOnly })).toEqual([]);
  });

  it('takes secrets from the file too', () => {
    const path = file('secrets.json', { digitalocean: { token: 'dop_v1_file' }, runpod: { apiKey: 'rp_file' } });
    expect(names({ SLIPWAY_CLOUD_CONFIG: path })).toEqual(['digitalocean', 'runpod']);
  });

  it('a bad file or field is CONFIG_INVALID naming it, never the secret', () => {
    expect(configError({ SLIPWAY_CLOUD_CONFIG: file('bad.json', '{ nope') })).toMatchObject({ code: 'CONFIG_INVALID' });
    const unknown = configError({ SLIPWAY_CLOUD_CONFIG: file('unknown.json', { aws: {} }) });
    expect(unknown.message).toMatch(/aws: unknown provider/);
    const secret = 'dop_v1_supersecret_token_value';
    const badUrl = configError({ DIGITALOCEAN_TOKEN: secret, DIGITALOCEAN_API_URL: 'not a url' });
    expect(badUrl).toMatchObject({ code: 'CONFIG_INVALID' });
    expect(badUrl.message).toMatch(/SLIPWAY_CLOUD_CONFIG: digitalocean: .*baseUrl/);
    expect(badUrl.message).not.toContain(secret);
    const badCatalog = file('catalog-bad.json', { runpod: { gpuTypes: [{ id: 'x', creditsPerHour: -1 }] } });
    const rp = configError({ SLIPWAY_CLOUD_CONFIG: badCatalog, RUNPOD_API_KEY: 'rp_secret_key_value' });
    expect(rp.message).toMatch(/runpod: .*gpuTypes/);
    expect(rp.message).not.toContain('rp_secret_key_value');
  });

  it('the example file in docs/cloud-provisioners.md starts both providers', () => {
    const page = readFileSync(new URL('../../../docs/cloud-provisioners.md', import.meta.url), 'utf8');
    const example = /```json\n([\s\S]*?)```/.exec(page)?.[1];
    expect(example).toBeTruthy();
    const path = file('docs-example.json', example ?? '');
    const env = { SLIPWAY_CLOUD_CONFIG: path, DIGITALOCEAN_TOKEN: 'dop_v1_x', RUNPOD_API_KEY: 'rp_x' };
    const [digitalocean, runpod] = cloudProvisionersFromEnv(env);
    expect([digitalocean?.name, runpod?.name]).toEqual(['digitalocean', 'runpod']);
  });
});
