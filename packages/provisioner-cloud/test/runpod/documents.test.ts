// The typed documents against graphql/runpod.graphql: each one validates, a wrong one does not,
// and regenerating gql.tada's output from the schema gives the committed file.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kind, NoUnusedFragmentsRule, parse, specifiedRules, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { ALL_DOCUMENTS } from '../../src/runpod/documents.js';
import { runpodSchema } from '../support/runpod-fake.js';

const packageDir = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(dirname(createRequire(import.meta.url).resolve('gql.tada/package.json')), 'bin/cli.js');

describe('RunPod GraphQL documents', () => {
  it.each(Object.entries(ALL_DOCUMENTS))('%s validates against the schema', (_name, document) => {
    const fragmentOnly = document.definitions.every((d) => d.kind === Kind.FRAGMENT_DEFINITION);
    const rules = fragmentOnly ? specifiedRules.filter((r) => r !== NoUnusedFragmentsRule) : specifiedRules;
    expect(validate(runpodSchema(), document, rules).map((e) => e.message)).toEqual([]);
  });

  it('a document that does not match the schema fails the check', () => {
    const wrong = parse('mutation { podTerminate(input: { podId: "x", force: true }) { id } }');
    const messages = validate(runpodSchema(), wrong).map((e) => e.message);
    expect(messages.join('\n')).toMatch(/force/);
    expect(messages.join('\n')).toMatch(/must not have a selection/);
  });

  it('the committed gql.tada output is what the schema generates', { timeout: 60_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'runpod-tada-'));
    try {
      const out = join(dir, 'graphql-env.d.ts');
      execFileSync(process.execPath, [cli, 'generate', 'output', '--output', out], { cwd: packageDir, stdio: 'pipe' });
      const committed = readFileSync(join(packageDir, 'src/runpod/generated/graphql-env.d.ts'), 'utf8');
      expect(readFileSync(out, 'utf8')).toBe(committed);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
