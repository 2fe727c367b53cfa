import { afterEach } from 'vitest';
import { QmpClient } from '../../src/qmp/qmp-client.js';
import type { QmpClientOptions } from '../../src/qmp/qmp-client-options.js';
import { type FakePeer, type FakeQmpServer, loadTranscript, qemuLines, startFakeQmp } from './fake-qmp-server.js';
import { memoryLogger } from './memory-logger.js';

/** QEMU 7.2's greeting, as recorded. */
export const GREETING = qemuLines(loadTranscript('lifecycle'))[0] ?? '';

/**
 * Fake servers and clients made in a test, all torn down after it (sockets closed, temp dirs
 * removed), with a memory logger per client.
 */
export function useFakeQmp() {
  const servers: FakeQmpServer[] = [];
  const clients: QmpClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
    await Promise.all(servers.splice(0).map((server) => server.dispose()));
  });
  return {
    async server(script: (peer: FakePeer) => Promise<void>): Promise<FakeQmpServer> {
      const server = await startFakeQmp(script);
      servers.push(server);
      return server;
    },
    client(server: FakeQmpServer, options: Partial<QmpClientOptions> = {}) {
      const logger = memoryLogger();
      const client = new QmpClient({ socketPath: server.socketPath, logger, ...options });
      clients.push(client);
      return { client, logger };
    },
  };
}
