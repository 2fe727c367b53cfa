/**
 * `slipway serve`: start the HTTP server. On the embedded default it prints a demo admin
 * token and a curl line, so a first run needs no setup at all. SIGINT/SIGTERM close the
 * HTTP server, then the core (which releases the PGlite data-dir lock). A signal during
 * start-up waits for start-up to finish: killing PGlite mid-initdb would damage the data dir.
 */
import { openDatabase, SlipwayError, type SlipwayStorage, setFaultHook } from '@slipway/core';
import type { App } from '../app.js';
import type { ServerConfig } from '../config.js';
import type { Listening } from '../http.js';

export async function serve(config: ServerConfig): Promise<void> {
  if (config.faultKillAt) {
    const point = config.faultKillAt;
    // Crash tests: die exactly as a power cut would, with no cleanup at all.
    setFaultHook((reached) => {
      if (reached === point) process.kill(process.pid, 'SIGKILL');
    });
  }
  let app: App | undefined;
  let http: Listening | undefined;
  let storage: SlipwayStorage | undefined;
  const started = start(config).then((s) => {
    ({ app, http, storage } = s);
  });

  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`slipway: ${signal} again, exiting without cleanup\n`);
      process.exit(1);
    }
    stopping = true;
    try {
      await started.catch(() => {}); // a failed start cleans up after itself
      app?.logger.info('shutting down', { signal });
      await http?.close();
      await app?.close();
      await storage?.close(); // opened here, so not closed by app.close()
      process.exit(0);
    } catch (error) {
      process.stderr.write(`slipway: shutdown failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    }
  };
  process.on('SIGINT', (s) => void stop(s));
  process.on('SIGTERM', (s) => void stop(s));

  await started;
  if (stopping || !app || !http) return;
  app.logger.info('listening', { url: http.url });
  process.stdout.write(`Slipway ready at ${http.url}\n`);
  process.stdout.write(`Dashboard at ${new URL('/', http.url).href}\n`);
  if (config.embedded) await printDemoToken(config, http.url);
}

async function start(config: ServerConfig): Promise<{ app: App; http: Listening; storage: SlipwayStorage }> {
  const opening = openDatabase(config.database);
  const modules = Promise.all([import('../app.js'), import('../http.js')]);
  const [opened, loaded] = await Promise.allSettled([opening, modules]);
  if (opened.status === 'rejected') throw opened.reason;
  const storage = opened.value;
  if (loaded.status === 'rejected') {
    await storage.close();
    throw loaded.reason;
  }
  const [{ createApp }, { listen }] = loaded.value;
  let app: App | undefined;
  try {
    app = await createApp(config, { database: storage });
    return { app, http: await listen(app.yoga, config.host, config.port), storage };
  } catch (error) {
    await app?.close();
    await storage.close();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new SlipwayError('CONFIG_INVALID', `PORT: ${config.host}:${config.port} is already in use`, {
        details: { variable: 'PORT' },
      });
    }
    throw error;
  }
}

async function printDemoToken(config: ServerConfig, url: string): Promise<void> {
  const { mintDemoToken } = await import('../demo-token.js');
  const token = await mintDemoToken(config);
  process.stdout.write(
    [
      '',
      'Demo admin token (sub "admin", role admin, valid 30 days):',
      `  export SLIPWAY_TOKEN=${token}`,
      'Try:',
      `  curl -s ${url} -H 'content-type: application/json' -H "authorization: Bearer $SLIPWAY_TOKEN" \\`,
      `    -d '{"query":"{ me { id role balance available } provisioners { name isDemo pricing } }"}'`,
      'More requests: docs/graphql-api.md',
      '',
    ].join('\n'),
  );
}
