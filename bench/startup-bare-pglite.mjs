// The start-up baseline for `npm run bench`: the least a server on the embedded database can do.
// Opens PGlite on <pgdata> (loading <template> first when given, as a new data directory does)
// with the server's start parameters, then answers every request with `select 1` and 200.
// Plain JavaScript so that it loads nothing but PGlite and node:http.
// usage: node bench/startup-bare-pglite.mjs <pgdata> <port> [template.tar.gz]
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname } from 'node:path';
import { PGlite } from '@electric-sql/pglite';

const [pgdata, port, template] = process.argv.slice(2);
if (!pgdata || !port) throw new Error('usage: startup-bare-pglite.mjs <pgdata> <port> [template.tar.gz]');
mkdirSync(dirname(pgdata), { recursive: true });
const pg = await PGlite.create(pgdata, {
  startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'],
  ...(template ? { loadDataDir: new Blob([readFileSync(template)]) } : {}),
});
const server = createServer((_req, res) => {
  pg.query('select 1').then(
    () => res.writeHead(200).end('ok'),
    () => res.writeHead(503).end('error'),
  );
});
server.listen(Number(port), '127.0.0.1');
const stop = () => server.close(() => void pg.close().then(() => process.exit(0)));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
