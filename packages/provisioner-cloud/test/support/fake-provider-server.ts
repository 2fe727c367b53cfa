/**
 * Serving msw handlers without patching the global fetch:
 *
 * - `fetchThrough(handlers)`: a fetch that answers in process through msw's `getResponse`
 *   (inject it as the provisioner's `fetch`), honouring the request's abort signal and turning
 *   `HttpResponse.error()` into the TypeError a dropped connection gives.
 * - `startFakeProviderServer(handlers)`: the same handlers on a real loopback node:http
 *   server, so another process (a server under a kill -9 test) can talk to the fake. `hold()`
 *   keeps matching replies (already processed: a create has stored its droplet) until released.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getResponse, type RequestHandler } from 'msw';

export function fetchThrough(handlers: readonly RequestHandler[]): typeof fetch {
  return async (input, init) => {
    const request = input instanceof Request && !init ? input : new Request(input, init);
    const signal = request.signal;
    signal.throwIfAborted();
    const answer = getResponse([...handlers], request);
    const aborted = new Promise<never>((_, reject) => {
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
    aborted.catch(() => undefined);
    const response = await Promise.race([answer, aborted]);
    if (!response) throw new TypeError(`fetch failed: no handler for ${request.method} ${request.url}`);
    if (response.type === 'error') throw new TypeError('fetch failed: connection reset');
    return response;
  };
}

export interface Hold {
  /** Resolves when a matching request has been answered by the handlers and is being held. */
  readonly arrived: Promise<void>;
  /** Send the held replies (and stop holding). */
  release(): void;
}

export interface FakeProviderServer {
  /** `http://127.0.0.1:<port>`: give it to the client as its base URL. */
  readonly url: string;
  /** Hold the replies to requests that `match` until released. */
  hold(match: (request: Request) => boolean): Hold;
  close(): Promise<void>;
}

/**
 * Serve `handlers` on 127.0.0.1. Handlers registered for `upstream` (the real API's origin,
 * default https://api.digitalocean.com) answer: incoming paths are re-rooted there.
 */
export async function startFakeProviderServer(
  handlers: readonly RequestHandler[],
  options: { upstream?: string; port?: number } = {},
): Promise<FakeProviderServer> {
  const upstream = options.upstream ?? 'https://api.digitalocean.com';
  const holds: { match: (r: Request) => boolean; gate: Promise<void>; arrive: () => void }[] = [];

  const server = createServer((req, res) => {
    serve(req, res).catch(() => res.destroy());
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = chunks.length ? Buffer.concat(chunks) : undefined;
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    const init = { method: req.method ?? 'GET', headers, ...(body && req.method !== 'GET' ? { body } : {}) };
    const request = new Request(new URL(req.url ?? '/', upstream), init);
    const matchCopy = request.clone();
    const response = await getResponse([...handlers], request);
    const hold = holds.find((h) => h.match(matchCopy));
    if (hold) {
      hold.arrive();
      await hold.gate;
    }
    if (!response || response.type === 'error') {
      res.destroy(); // what a lost reply looks like from the client
      return;
    }
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  }

  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    hold(match) {
      let arrive!: () => void;
      let open!: () => void;
      const arrived = new Promise<void>((resolve) => {
        arrive = resolve;
      });
      const gate = new Promise<void>((resolve) => {
        open = resolve;
      });
      const entry = { match, gate, arrive };
      holds.push(entry);
      return {
        arrived,
        release() {
          const at = holds.indexOf(entry);
          if (at >= 0) holds.splice(at, 1);
          open();
        },
      };
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
