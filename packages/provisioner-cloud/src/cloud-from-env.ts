/**
 * What the server calls at start-up: the cloud provisioners whose secret is configured.
 *
 * - `SLIPWAY_CLOUD_CONFIG` names an optional JSON file `{ "digitalocean": {...}, "runpod": {...} }`
 *   with each provider's catalog (sizes, regions, images, GPU types, prices) and settings.
 * - `DIGITALOCEAN_TOKEN` / `RUNPOD_API_KEY` give the secrets (or `token` / `apiKey` in the file;
 *   the environment wins), `DIGITALOCEAN_API_URL` / `RUNPOD_API_URL` the base URLs.
 *
 * A provider without a secret is not registered. A bad file or value stops start-up with
 * CONFIG_INVALID naming the variable and the field, and never the secret.
 */
import { readFileSync } from 'node:fs';
import { errorMessage, isSlipwayError, type Provisioner, SlipwayError } from '@slipway/core';
import { digitalOceanProvisioner } from './digitalocean/index.js';
import { runpodProvisioner } from './runpod/index.js';

export const CLOUD_CONFIG_VARIABLE = 'SLIPWAY_CLOUD_CONFIG';

export interface CloudFromEnvDeps {
  /** Used by every provider client; tests point it at a fake provider. */
  readonly fetch?: typeof fetch;
}

export function cloudProvisionersFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  deps: CloudFromEnvDeps = {},
): Provisioner[] {
  const file = readConfigFile(env);
  const out: Provisioner[] = [];
  const digitalocean = section(file, 'digitalocean');
  const token = env.DIGITALOCEAN_TOKEN?.trim() || stringField(digitalocean, 'token');
  if (token) {
    const config = {
      ...digitalocean,
      token,
      ...(env.DIGITALOCEAN_API_URL ? { baseUrl: env.DIGITALOCEAN_API_URL } : {}),
    };
    out.push(build('digitalocean', () => digitalOceanProvisioner(config, deps)));
  }
  const runpod = section(file, 'runpod');
  const apiKey = env.RUNPOD_API_KEY?.trim() || stringField(runpod, 'apiKey');
  if (apiKey) {
    const config = { ...runpod, apiKey, ...(env.RUNPOD_API_URL ? { baseUrl: env.RUNPOD_API_URL } : {}) };
    out.push(build('runpod', () => runpodProvisioner(config, deps)));
  }
  return out;
}

function readConfigFile(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const path = env[CLOUD_CONFIG_VARIABLE]?.trim();
  if (!path) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw configInvalid(`cannot read ${path} as JSON (${errorMessage(error)})`);
  }
  if (!isRecord(raw)) throw configInvalid(`${path}: must hold a JSON object`);
  for (const key of Object.keys(raw)) {
    if (key !== 'digitalocean' && key !== 'runpod') {
      throw configInvalid(`${path}: ${key}: unknown provider (digitalocean, runpod)`);
    }
  }
  return raw;
}

function section(file: Record<string, unknown>, name: string): Record<string, unknown> {
  const value = file[name];
  if (value === undefined) return {};
  if (!isRecord(value)) throw configInvalid(`${name}: must be an object`);
  return value;
}

function stringField(section: Record<string, unknown>, key: string): string | undefined {
  const value = section[key];
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

function build(provider: string, make: () => Provisioner): Provisioner {
  try {
    return make();
  } catch (error) {
    // The provider's schema names the field; its message never echoes the secret's value.
    if (isSlipwayError(error) && (error.code === 'VALIDATION_FAILED' || error.code === 'CONFIG_INVALID')) {
      throw configInvalid(`${provider}: ${error.message.replace(/^\w+ config: /, '')}`);
    }
    throw error;
  }
}

function configInvalid(problem: string): SlipwayError {
  return new SlipwayError('CONFIG_INVALID', `${CLOUD_CONFIG_VARIABLE}: ${problem}`, {
    details: { variable: CLOUD_CONFIG_VARIABLE },
  });
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
