/**
 * Every ```ts block of README.md and docs/*.md compiles against the workspace, and runs:
 * programs with tsx (as a user would, under the `@slipway/source` condition), `ts test`
 * blocks inside this vitest run. The conventions are in test/support/doc-snippets.ts.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { collectSnippets, type DocSnippet, writeSnippets } from '../support/doc-snippets.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const snippetRoot = join(repoRoot, 'test/docs/.snippets');
const { snippets, problems } = collectSnippets(repoRoot);
const files = writeSnippets(snippetRoot, repoRoot, snippets);
const byFile = new Map(files.map((file, i) => [file, snippets[i] as DocSnippet]));
const where = (s: DocSnippet) => `${s.page}:${s.line}`;

describe('doc snippets', () => {
  it('follow the conventions of test/support/doc-snippets.ts', () => {
    expect(problems).toEqual([]);
    const modules = snippets.filter((s) => s.role === 'module').map((s) => `${s.page} ${s.fileName}`);
    expect(
      modules.filter((name, i) => modules.indexOf(name) !== i),
      'file= names repeated in a page',
    ).toEqual([]);
  });

  it('the documentation has runnable examples', () => {
    // A regression guard for the extraction: these pages hold programs and the conformance test.
    const pages = (role: DocSnippet['role']) => new Set(snippets.filter((s) => s.role === role).map((s) => s.page));
    expect([...pages('program')]).toContain('docs/embedding.md');
    expect([...pages('test')]).toContain('docs/provisioner-contract.md');
  });

  it('typecheck against the workspace', { timeout: 180_000 }, () => {
    expect(typeErrors()).toEqual([]);
  });

  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const workDir = mkdtempSync(join(tmpdir(), 'slipway-doc-snippets-'));
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  for (const [i, snippet] of snippets.entries()) {
    if (snippet.role !== 'program') continue;
    it(`${where(snippet)} runs to completion`, { timeout: 300_000 }, async () => {
      // A clean environment: no DATABASE_URL, so examples take their embedded-database path.
      const { DATABASE_URL: _ignored, ...env } = process.env;
      const run = promisify(execFile)(
        process.execPath,
        ['--conditions=@slipway/source', '--import', tsx, files[i] as string],
        { cwd: workDir, env, timeout: 240_000 },
      );
      await expect(run, `${where(snippet)} exits 0 within 4 minutes`).resolves.toBeDefined();
    });
  }
});

// `ts test` blocks register their suites here, under the block's page and line.
for (const [i, snippet] of snippets.entries()) {
  if (snippet.role !== 'test') continue;
  describe(where(snippet), async () => {
    await import(pathToFileURL(files[i] as string).href);
  });
}

/** TypeScript's diagnostics for the snippet folder, each placed at its page and line. */
function typeErrors(): string[] {
  const configFile = join(snippetRoot, 'tsconfig.json');
  const { config, error } = ts.readConfigFile(configFile, ts.sys.readFile);
  if (error) return [ts.flattenDiagnosticMessageText(error.messageText, '\n')];
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, snippetRoot);
  const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (!d.file || d.start === undefined) return message;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    const snippet = byFile.get(d.file.fileName);
    // The block's first code line is the line after its opening fence.
    return snippet
      ? `${snippet.page}:${snippet.line + 1 + line}: ${message}`
      : `${d.file.fileName}:${line + 1}: ${message}`;
  });
}
