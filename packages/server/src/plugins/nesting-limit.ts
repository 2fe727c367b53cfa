/**
 * graphql-js parses recursively, and GraphQL Armor counts depth only once the document is
 * parsed: within the token limit a list literal ~2,000 `[` deep overflows the stack inside
 * `parse` (HTTP 500). So the nesting of brackets is counted first, in one pass over the text
 * (strings and comments skipped), and a document nesting past `maxNesting` is refused as
 * QUERY_TOO_COMPLEX (`limit: "depth"`) before it is parsed; a stack overflow that still
 * happens while parsing (a server with raised limits) is refused the same way.
 */
import type { Plugin } from 'graphql-yoga';
import { tooComplex } from './refusal.js';

/** Must come after the token limit's plugin: it wraps the parse function that one sets. */
export function nestingLimitPlugin(maxNesting: number): Plugin {
  return {
    onParse({ params, parseFn, setParseFn }) {
      const source = typeof params.source === 'string' ? params.source : params.source.body;
      if (nestingOver(source, maxNesting)) {
        setParseFn(() => {
          throw tooComplex('depth', maxNesting);
        });
        return;
      }
      setParseFn((s, options) => {
        try {
          return parseFn(s, options);
        } catch (error) {
          // "Maximum call stack size exceeded": the document, not the server, is at fault.
          if (error instanceof RangeError) throw tooComplex('depth', maxNesting);
          throw error;
        }
      });
    },
  };
}

/** True when `{`, `[` or `(` nest deeper than `max` outside strings, block strings and comments. */
export function nestingOver(source: string, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '{' || c === '[' || c === '(') {
      if (++depth > max) return true;
    } else if (c === '}' || c === ']' || c === ')') {
      depth--;
    } else if (c === '#') {
      const end = source.indexOf('\n', i);
      i = end === -1 ? source.length : end;
    } else if (c === '"') {
      i = source.startsWith('"""', i) ? blockStringEnd(source, i + 3) : stringEnd(source, i + 1);
    }
  }
  return false;
}

/** Index of the closing quote of a "…" string whose text starts at `from` (or the end of a line). */
function stringEnd(source: string, from: number): number {
  for (let i = from; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (c === '"' || c === '\n' || c === '\r') return i;
  }
  return source.length;
}

/** Index of the last quote of a """…""" block string whose text starts at `from`. */
function blockStringEnd(source: string, from: number): number {
  for (let i = from; i < source.length; i++) {
    if (source.startsWith('\\"""', i)) i += 3;
    else if (source.startsWith('"""', i)) return i + 2;
  }
  return source.length;
}
