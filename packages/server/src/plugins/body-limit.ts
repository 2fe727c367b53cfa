/**
 * The request body limit: a body over `maxBytes` is answered 413 with a typed error
 * (QUERY_TOO_COMPLEX, `limit: "bodyBytes"`) before yoga reads it as JSON. A declared
 * `content-length` is checked up front; a chunked body is counted while it is read and
 * dropped at the first chunk over the limit, so a 10 MB body never sits in memory.
 */
import type { Plugin } from 'graphql-yoga';
import { tooComplex } from './refusal.js';

type FetchAPI = Parameters<NonNullable<Plugin['onRequestParse']>>[0]['fetchAPI'];

export function bodyLimitPlugin(maxBytes: number): Plugin {
  const tooLarge = (fetchAPI: FetchAPI): Response => {
    const { message, extensions } = tooComplex('bodyBytes', maxBytes).toJSON();
    // Fresh headers each time (see http.ts); `connection: close` so the rest of the body is not read.
    return fetchAPI.Response.json(
      { errors: [{ message, extensions }] },
      { status: 413, headers: { 'cache-control': 'no-store', connection: 'close' } },
    );
  };
  return {
    onRequestParse({ request, requestParser, setRequestParser, endResponse, fetchAPI }) {
      const declared = request.headers.get('content-length');
      if (declared !== null) {
        // node:http reads exactly content-length bytes, so a declared length within the limit needs no counting.
        if (Number(declared) > maxBytes) endResponse(tooLarge(fetchAPI));
        return;
      }
      if (request.body === null || requestParser === undefined) return;
      setRequestParser(async (req) => {
        const body = await readAtMost(req, maxBytes);
        if (body === null) return tooLarge(fetchAPI);
        const headers = new fetchAPI.Headers(req.headers);
        headers.delete('transfer-encoding');
        return requestParser(new fetchAPI.Request(req.url, { method: req.method, headers, body }));
      });
    },
  };
}

/** The body's bytes, or null as soon as there are more than `max`. */
async function readAtMost(request: Request, max: number): Promise<Uint8Array<ArrayBuffer> | null> {
  const reader = request.body?.getReader();
  if (!reader) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    total += chunk.value.byteLength;
    if (total > max) {
      await reader.cancel();
      return null;
    }
    chunks.push(chunk.value);
  }
  const body = new Uint8Array(new ArrayBuffer(total));
  let offset = 0;
  for (const c of chunks) {
    body.set(c, offset);
    offset += c.byteLength;
  }
  return body;
}
