/**
 * `slipway serve`: start the HTTP server. On the embedded default it prints a demo admin
 * token and a curl line, so a first run needs no setup at all. SIGINT/SIGTERM close the
 * HTTP server, then the core (which releases the PGlite data-dir lock).
 */
import { SlipwayError } from '@slipway/core';
import { createApp } from '../app.js';
import { mintToken } from '../auth.js';
import type { ServerConfig } from '../config.js';
import { type Listening, listen } from '../http.js';

export async function serve(config: ServerConfig): Promise<void> {
  const app = await createApp(config);
  let http: Listening;
  try {
    http = await listen(app.yoga, config.host, config.port);
  } catch (error) {
    await app.close();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new SlipwayError('CONFIG_INVALID', `PORT: ${config.host}:${config.port} is already in use`, {
        details: { variable: 'PORT' },
      });
    }
    throw error;
  }
  app.logger.info('listening', { url: http.url });
  process.stdout.write(`Slipway ready at ${http.url}\n`);
  if (config.embedded) {
    const token = await mintToken({ secret: config.jwtSecret, userId: 'admin', role: 'admin', expiresIn: '30d' });
    process.stdout.write(
      [
        '',
        'Demo admin token (sub "admin", role admin, valid 30 days):',
        `  export SLIPWAY_TOKEN=${token}`,
        'Try:',
        `  curl -s ${http.url} -H 'content-type: application/json' -H "authorization: Bearer $SLIPWAY_TOKEN" \\`,
        `    -d '{"query":"{ me { id role balance available } provisioners { name isDemo pricing } }"}'`,
        'More requests: docs/graphql-api.md',
        '',
      ].join('\n'),
    );
  }

  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`slipway: ${signal} again, exiting without cleanup\n`);
      process.exit(1);
    }
    stopping = true;
    app.logger.info('shutting down', { signal });
    try {
      await http.close();
      await app.close();
      process.exit(0);
    } catch (error) {
      app.logger.error('shutdown failed', { error: error instanceof Error ? error.message : String(error) });
      process.exit(1);
    }
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}
