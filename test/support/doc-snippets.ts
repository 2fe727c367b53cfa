/**
 * Code blocks of the docs, as the snippet test compiles and runs them.
 *
 * The info string of a ```ts block says what the block is (one word after `ts`, or none):
 *
 * | info string            | the block is                                                  | the test          |
 * | ---------------------- | ------------------------------------------------------------- | ----------------- |
 * | `ts`                   | a complete program                                            | typechecks, runs  |
 * | `ts file=<name>.ts`    | a module that other blocks of the same page import (`./<name>.js`) | typechecks  |
 * | `ts test`              | a vitest test file (e.g. the conformance suite on a provisioner) | typechecks, runs in vitest |
 * | `ts fragment`          | self-contained but not runnable here (a server that runs until stopped, a file the test lacks) | typechecks |
 *
 * Anything else after `ts` is an error, so a new block cannot slip through untested.
 * Blocks in other languages (bash, json, graphql, ...) are not touched.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const TS_LANGUAGES = new Set(['ts', 'typescript']);

export type SnippetRole = 'program' | 'module' | 'test' | 'fragment';

export interface DocSnippet {
  /** Repository-relative path of the page, e.g. `docs/embedding.md`. */
  page: string;
  /** 1-based line of the opening fence. */
  line: number;
  role: SnippetRole;
  /** The file the block is written to, relative to its page's snippet folder. */
  fileName: string;
  code: string;
}

export interface FencedBlock {
  line: number;
  info: string;
  code: string;
}

/** Fenced code blocks of a CommonMark page (``` or ~~~, closed by a fence at least as long). */
export function fencedBlocks(markdown: string): FencedBlock[] {
  const blocks: FencedBlock[] = [];
  const lines = markdown.split('\n');
  let open: { line: number; fence: string; info: string; body: string[] } | undefined;
  lines.forEach((text, index) => {
    if (!open) {
      const start = /^ {0,3}(`{3,}|~{3,})\s*(.*)$/.exec(text);
      if (start?.[1]) open = { line: index + 1, fence: start[1], info: (start[2] ?? '').trim(), body: [] };
      return;
    }
    const close = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(text)?.[1];
    if (close && close[0] === open.fence[0] && close.length >= open.fence.length) {
      blocks.push({ line: open.line, info: open.info, code: `${open.body.join('\n')}\n` });
      open = undefined;
      return;
    }
    open.body.push(text);
  });
  return blocks;
}

/** The ts blocks of one page with their roles; a block with an unknown info string is a problem. */
export function pageSnippets(page: string, markdown: string): { snippets: DocSnippet[]; problems: string[] } {
  const snippets: DocSnippet[] = [];
  const problems: string[] = [];
  for (const block of fencedBlocks(markdown)) {
    const [language = '', ...attributes] = block.info.split(/\s+/);
    if (!TS_LANGUAGES.has(language)) continue;
    const where = `${page}:${block.line}`;
    const role = roleOf(attributes);
    if (typeof role === 'string') {
      problems.push(`${where}: \`${block.info}\`: ${role}`);
      continue;
    }
    snippets.push({ page, line: block.line, code: block.code, ...role });
  }
  return { snippets, problems };
}

function roleOf(attributes: string[]): { role: SnippetRole; fileName: string } | string {
  const [attribute, ...rest] = attributes;
  if (rest.length > 0) return 'give at most one of fragment, test, file=<name>.ts';
  if (attribute === undefined) return { role: 'program', fileName: '' };
  if (attribute === 'fragment') return { role: 'fragment', fileName: '' };
  if (attribute === 'test') return { role: 'test', fileName: '' };
  const file = /^file=([a-z0-9][a-z0-9-]*\.ts)$/.exec(attribute)?.[1];
  if (file) return { role: 'module', fileName: file };
  return 'unknown info string; use `ts`, `ts fragment`, `ts test` or `ts file=<name>.ts` (test/support/doc-snippets.ts)';
}

/** README.md and every docs/*.md page except the generated benchmark report. */
export function documentationPages(repoRoot: string): string[] {
  const docs = readdirSync(join(repoRoot, 'docs'))
    .filter((name) => name.endsWith('.md') && name !== 'benchmarks.md')
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs];
}

/** Every ts block of the documentation, named by file, and the blocks that follow no convention. */
export function collectSnippets(repoRoot: string): { snippets: DocSnippet[]; problems: string[] } {
  const snippets: DocSnippet[] = [];
  const problems: string[] = [];
  for (const page of documentationPages(repoRoot)) {
    const found = pageSnippets(page, readFileSync(join(repoRoot, page), 'utf8'));
    for (const s of found.snippets) {
      const fileName =
        s.role === 'module' ? s.fileName : s.role === 'test' ? `line-${s.line}.test.ts` : `line-${s.line}.ts`;
      snippets.push({ ...s, fileName });
    }
    problems.push(...found.problems);
  }
  return { snippets, problems };
}

/** The folder a page's blocks are written to: `<root>/docs-embedding` for docs/embedding.md. */
export function pageFolder(root: string, page: string): string {
  return join(root, page.replace(/\.md$/, '').replaceAll('/', '-').toLowerCase());
}

/**
 * Write every snippet under `root` (emptied first), beside a tsconfig that extends the
 * workspace's, so `@slipway/*` imports resolve to the workspace sources. The folder ignores
 * itself in git. Returns the absolute path of each snippet's file, in order.
 */
export function writeSnippets(root: string, repoRoot: string, snippets: DocSnippet[]): string[] {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, '.gitignore'), '*\n');
  const base = join(repoRoot, 'tsconfig.base.json');
  writeFileSync(
    join(root, 'tsconfig.json'),
    `${JSON.stringify({ extends: base, compilerOptions: { noEmit: true }, include: ['**/*.ts'] }, null, 2)}\n`,
  );
  return snippets.map((s) => {
    const folder = pageFolder(root, s.page);
    mkdirSync(folder, { recursive: true });
    const file = join(folder, s.fileName);
    writeFileSync(file, s.code);
    return file;
  });
}
