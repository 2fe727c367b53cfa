/** docs/configuration.md keeps up with the code: every variable the server reads has a row. */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ENV_VARIABLES } from '../src/config.js';

const repo = (path: string) => fileURLToPath(new URL(`../../../${path}`, import.meta.url));

/** The variable names of the first column of docs/configuration.md's variables table. */
function documentedVariables(): string[] {
  const lines = readFileSync(repo('docs/configuration.md'), 'utf8').split('\n');
  const header = lines.findIndex((line) => /^\|\s*Variable\s*\|/.test(line));
  expect(header, 'docs/configuration.md has a | Variable | table').toBeGreaterThanOrEqual(0);
  const names: string[] = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    const name = /^\|\s*`([A-Z0-9_]+)`\s*\|/.exec(line)?.[1];
    if (name) names.push(name);
  }
  return names;
}

/** Every VM_POOL_* name the pool provisioner's sources mention (what it reads from the environment). */
function poolVariables(): string[] {
  const dir = repo('packages/provisioner-pool/src');
  const names = new Set<string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    for (const match of readFileSync(`${dir}/${file}`, 'utf8').matchAll(/\bVM_POOL_[A-Z0-9_]*[A-Z0-9]\b/g)) {
      names.add(match[0]);
    }
  }
  return [...names].sort();
}

describe('docs/configuration.md', () => {
  it('has a row for every variable of the server config', () => {
    const documented = documentedVariables();
    expect(ENV_VARIABLES.filter((name) => !documented.includes(name))).toEqual([]);
  });

  it('has a row for every VM_POOL_* variable of the pool provisioner', () => {
    const pool = poolVariables();
    expect(pool).toEqual(
      expect.arrayContaining([
        'VM_POOL_FILE',
        'VM_POOL_JSON',
        'VM_POOL_RELEASE_HOOK_MAX_ATTEMPTS',
        'VM_POOL_RELEASE_HOOK_TIMEOUT_MS',
        'VM_POOL_RELEASE_HOOK_TOKEN',
        'VM_POOL_RELEASE_HOOK_URL',
      ]),
    );
    const documented = documentedVariables();
    expect(pool.filter((name) => !documented.includes(name))).toEqual([]);
  });

  it('documents no variable twice', () => {
    const documented = documentedVariables();
    expect(documented.filter((name, i) => documented.indexOf(name) !== i)).toEqual([]);
  });
});
