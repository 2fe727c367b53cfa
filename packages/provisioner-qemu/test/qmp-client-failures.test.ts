import { describe, expect, it } from 'vitest';
import { QMP_CONNECTED, QMP_DISCONNECTED } from '../src/qmp/qmp-client-options.js';
import { QmpAbortedError, QmpDisconnectedError, QmpTimeoutError } from '../src/qmp/qmp-errors.js';
import { GREETING, useFakeQmp } from './support/fake-qmp-fixture.js';
import type { ClientCommand, FakePeer } from './support/fake-qmp-server.js';

const fake = useFakeQmp();

/** Answer every command with `{return: {echo: <command>}}`. */
async function echo(peer: FakePeer): Promise<void> {
  await peer.handshake(GREETING);
  for (;;) {
    const command = await peer.nextCommand().catch(() => undefined);
    if (!command) return;
    peer.send({ return: { echo: command.execute }, id: command.id });
  }
}

describe('QmpClient when things go wrong', () => {
  it('drops a reply that comes after its time-out instead of giving it to the next command', async () => {
    const server = await fake.server(async (peer) => {
      await peer.handshake(GREETING);
      const slow = await peer.nextCommand();
      const next = await peer.nextCommand();
      peer.send({ return: { late: true }, id: slow.id });
      peer.send({ return: { echo: next.execute }, id: next.id });
    });
    const { client, logger } = fake.client(server);
    await client.connect();
    const slow = client.execute('query-block', undefined, { timeoutMs: 30 }).catch((error: unknown) => error);
    const timedOut = await slow;
    expect(timedOut).toBeInstanceOf(QmpTimeoutError);
    expect(timedOut).toMatchObject({ command: 'query-block', timeoutMs: 30, sent: true });
    expect(await client.execute('query-status')).toEqual({ echo: 'query-status' });
    expect(logger.records.some((r) => r.level === 'warn' && String(r.data.line).includes('"late"'))).toBe(true);
  });

  it('fails an aborted command at once and drops its reply', async () => {
    const commands: ClientCommand[] = [];
    const server = await fake.server(async (peer) => {
      await peer.handshake(GREETING);
      commands.push(await peer.nextCommand());
      commands.push(await peer.nextCommand());
      for (const command of commands) peer.send({ return: { echo: command.execute }, id: command.id });
    });
    const { client } = fake.client(server);
    await client.connect();
    const controller = new AbortController();
    const aborted = client.execute('system_reset', undefined, { signal: controller.signal });
    controller.abort(new Error('operator cancelled'));
    await expect(aborted).rejects.toMatchObject({ name: 'QmpAbortedError', sent: true });
    expect(await client.execute('query-status')).toEqual({ echo: 'query-status' });
    const already = client.execute('cont', undefined, { signal: AbortSignal.abort() });
    await expect(already).rejects.toBeInstanceOf(QmpAbortedError);
  });

  it('fails a command in flight with a disconnect error on EOF, emits the disconnect event, never hangs', async () => {
    const server = await fake.server(async (peer) => {
      await peer.handshake(GREETING);
      await peer.nextCommand();
      await peer.end();
    });
    const { client } = fake.client(server, { reconnect: false });
    await client.connect();
    const since = client.marker();
    const waiting = client.waitForEvent('DEVICE_DELETED');
    const inFlight = await client.execute('device_del', { id: 'vd1' }).catch((error: unknown) => error);
    expect(inFlight).toBeInstanceOf(QmpDisconnectedError);
    expect(inFlight).toMatchObject({ command: 'device_del', sent: true });
    await expect(waiting).rejects.toBeInstanceOf(QmpDisconnectedError);
    const [gone] = client.eventsSince(since);
    expect(gone?.event).toMatchObject({ event: QMP_DISCONNECTED, synthetic: true, data: { sawShutdown: false } });
    expect(client.state).toBe('disconnected');
  });

  it('reconnects after QEMU comes back on the same path; commands in flight fail, commands issued meanwhile wait', async () => {
    const server = await fake.server(async (peer) => {
      await peer.handshake(GREETING);
      await peer.nextCommand(); // never answered: QEMU "dies" with it in flight
    });
    const { client } = fake.client(server, { reconnect: { initialDelayMs: 5, maxDelayMs: 20 } });
    await client.connect();
    const since = client.marker();
    const reconnected = client.waitForEvent(QMP_CONNECTED, (e) => e.data.reconnect === true, {
      since,
      acrossDisconnect: true,
    });
    const inFlight = client.execute('cont').catch((error: unknown) => error);
    await server.stop();
    expect(await inFlight).toMatchObject({ name: 'QmpDisconnectedError', command: 'cont', sent: true });
    await client.waitForEvent(QMP_DISCONNECTED, undefined, { since });
    expect(client.state).toBe('reconnecting');
    const meanwhile = client.execute('query-status');

    await server.restartWith(echo);
    await reconnected;
    expect(client.state).toBe('ready');
    expect(await meanwhile).toEqual({ echo: 'query-status' });
    expect(client.eventsSince(since).map((e) => e.event.event)).toEqual([QMP_DISCONNECTED, QMP_CONNECTED]);
  });

  it('gives up reconnecting after maxAttempts: disconnected, and the commands waiting fail', async () => {
    const server = await fake.server(echo);
    const { client } = fake.client(server, { reconnect: { initialDelayMs: 1, maxDelayMs: 2, maxAttempts: 2 } });
    await client.connect();
    const since = client.marker();
    await server.stop();
    await client.waitForEvent(QMP_DISCONNECTED, undefined, { since });
    const waiting = client.execute('query-status');
    await expect(waiting).rejects.toMatchObject({ name: 'QmpDisconnectedError', sent: false });
    expect(String(await waiting.catch((error: unknown) => error))).toContain('gave up reconnecting after 2 attempts');
    expect(client.state).toBe('disconnected');
  });

  it('serves one client per socket: a second client gets its greeting only when the first closes', async () => {
    const server = await fake.server(echo);
    const first = fake.client(server).client;
    const second = fake.client(server).client;
    await first.connect();
    let firstClosed = false;
    const secondReady = second.connect().then((greeting) => ({ greeting, firstClosed }));
    while (server.connections < 2) await new Promise((resolve) => setImmediate(resolve));
    expect(second.state).toBe('connecting');
    const third = fake.client(server).client;
    await expect(third.connect({ timeoutMs: 50 })).rejects.toBeInstanceOf(QmpTimeoutError);

    await first.close();
    firstClosed = true;
    expect((await secondReady).firstClosed).toBe(true);
    expect(await second.execute('query-status')).toEqual({ echo: 'query-status' });
  });

  it('fails what is pending and waiting when closed, and refuses work afterwards', async () => {
    const server = await fake.server(async (peer) => {
      await peer.handshake(GREETING);
      await peer.closed;
    });
    const { client } = fake.client(server);
    await client.connect();
    const pending = client.execute('stop');
    const survivor = client.waitForEvent('RESET', undefined, { acrossDisconnect: true });
    await client.close();
    await expect(pending).rejects.toMatchObject({ name: 'QmpDisconnectedError', sent: true });
    await expect(survivor).rejects.toBeInstanceOf(QmpDisconnectedError);
    expect(client.state).toBe('closed');
    await expect(client.execute('cont')).rejects.toBeInstanceOf(QmpDisconnectedError);
    await expect(client.connect()).rejects.toBeInstanceOf(QmpDisconnectedError);
  });

  it('retries the socket until QEMU creates it, and gives up with a typed time-out', async () => {
    const server = await fake.server(echo);
    await server.stop();
    const { client, logger } = fake.client(server);
    const connecting = client.connect();
    while (!logger.records.some((r) => r.msg === 'qmp socket not there yet, retrying')) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await server.restartWith(echo);
    expect((await connecting).version.qemu.major).toBe(7);

    const nobody = fake.client(server).client;
    await server.stop();
    const failure = await nobody.connect({ timeoutMs: 60 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(QmpTimeoutError);
    expect(String(failure)).toContain('ENOENT');
    expect(nobody.state).toBe('disconnected');
  });
});
