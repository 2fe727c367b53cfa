import { describe, expect, it } from 'vitest';
import { QMP_CONNECTED, QMP_DISCONNECTED } from '../src/qmp/qmp-client-options.js';
import { QmpDisconnectedError, QmpError, QmpProtocolError, QmpTimeoutError } from '../src/qmp/qmp-errors.js';
import { GREETING, useFakeQmp } from './support/fake-qmp-fixture.js';
import { loadTranscript, qemuLines, type TranscriptEntry } from './support/fake-qmp-server.js';

// Every test replays lines recorded from QEMU 7.2 (test/fixtures/qmp/*.jsonl).
const fake = useFakeQmp();

describe('QmpClient against recorded QEMU transcripts', () => {
  it('does the handshake and follows prelaunch → running → paused, logging every line as JSON', async () => {
    const server = await fake.server((peer) => peer.play(loadTranscript('lifecycle')));
    const { client, logger } = fake.client(server);
    const greeting = await client.connect();
    expect(greeting.version.qemu).toEqual({ major: 7, minor: 2, micro: 22 });
    expect(greeting.capabilities).toEqual(['oob']);
    expect(client.state).toBe('ready');

    expect(await client.queryStatus()).toEqual({ status: 'prelaunch', running: false });
    const beforeCont = client.marker();
    expect(await client.execute('cont')).toEqual({});
    // QEMU sends RESUME before cont's reply; the backlog has it.
    expect(client.eventsSince(beforeCont).map((e) => e.event.event)).toEqual(['RESUME']);
    expect((await client.queryStatus()).status).toBe('running');
    await client.execute('stop');
    expect(await client.queryStatus()).toEqual({ status: 'paused', running: false });

    const traffic = logger.records.filter((r) => r.msg === 'qmp line');
    expect(traffic.filter((r) => r.data.dir === 'out')).toHaveLength(6);
    expect(traffic.filter((r) => r.data.dir === 'in')).toHaveLength(9);
    for (const record of traffic) expect(() => JSON.parse(String(record.data.line))).not.toThrow();
    expect(traffic[0]?.data.qmpSocket).toBe(server.socketPath);
  });

  it('holds a command issued before the handshake completes and sends it after qmp_capabilities', async () => {
    const refusal = qemuLines(loadTranscript('before-capabilities'))[1] ?? '';
    const firstCommands: string[] = [];
    const server = await fake.server(async (peer) => {
      peer.send(GREETING);
      for (;;) {
        const command = await peer.nextCommand();
        firstCommands.push(command.execute);
        if (command.execute === 'qmp_capabilities') peer.send({ return: {}, id: command.id });
        else if (firstCommands.length === 1) peer.send(refusal.replace('"r1"', JSON.stringify(command.id)));
        else peer.send({ return: { status: 'prelaunch', running: false }, id: command.id });
      }
    });
    const { client } = fake.client(server);
    await expect(client.execute('query-status')).rejects.toBeInstanceOf(QmpDisconnectedError); // idle: fails at once
    const connecting = client.connect();
    const early = client.queryStatus();
    await connecting;
    expect(await early).toEqual({ status: 'prelaunch', running: false });
    expect(firstCommands).toEqual(['qmp_capabilities', 'query-status']);
  });

  it('fails connect with a protocol error when QEMU refuses qmp_capabilities', async () => {
    const refusal = qemuLines(loadTranscript('before-capabilities'))[3] ?? '';
    const server = await fake.server(async (peer) => {
      peer.send(GREETING);
      const command = await peer.nextCommand();
      peer.send(refusal.replace('"r3"', JSON.stringify(command.id)));
      await peer.closed;
    });
    const { client } = fake.client(server);
    const failure = await client.connect().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(QmpProtocolError);
    expect(String(failure)).toContain('Capabilities negotiation is already complete');
    expect(client.state).toBe('disconnected');
  });

  it('keeps events that come before the greeting', async () => {
    const resume = qemuLines(loadTranscript('lifecycle')).find((line) => line.includes('"RESUME"')) ?? '';
    const server = await fake.server(async (peer) => {
      peer.send(resume);
      await peer.handshake(GREETING);
    });
    const { client } = fake.client(server);
    await client.connect();
    expect(client.eventsSince(0).map((e) => e.event.event)).toEqual(['RESUME', QMP_CONNECTED]);
  });

  it('matches no command to the id-less errors QEMU sends for garbage, and survives garbage lines', async () => {
    const idless = qemuLines(loadTranscript('garbage')).filter((line) => line.includes('JSON parse error'));
    expect(idless).toHaveLength(4);
    const server = await fake.server(async (peer) => {
      await peer.handshake(GREETING);
      const ignored = await peer.nextCommand();
      for (const line of idless) peer.send(line);
      peer.send('this line is not JSON');
      peer.send('[1, 2]');
      const answered = await peer.nextCommand();
      peer.send({ return: { answered: answered.execute, ignored: ignored.execute }, id: answered.id });
    });
    const protocolErrors: QmpProtocolError[] = [];
    const { client } = fake.client(server, { onProtocolError: (error) => protocolErrors.push(error) });
    await client.connect();
    const ignored = client.execute('query-kvm', undefined, { timeoutMs: 200 });
    const answered = client.execute('query-status');
    await expect(ignored).rejects.toBeInstanceOf(QmpTimeoutError);
    expect(await answered).toEqual({ answered: 'query-status', ignored: 'query-kvm' });
    expect(protocolErrors.map((e) => e.line)).toEqual([...idless, 'this line is not JSON', '[1, 2]']);
  });

  it('hotplugs a disk and catches both DEVICE_DELETED events through the backlog', async () => {
    const server = await fake.server((peer) => peer.play(loadTranscript('hotplug')));
    const { client } = fake.client(server);
    await client.connect();
    await client.execute('blockdev-add', { driver: 'file', 'node-name': 'f1', filename: '/tmp/disk1.qcow2' });
    await client.execute('blockdev-add', { driver: 'qcow2', 'node-name': 'd1', file: 'f1' });
    await client.execute('device_add', { driver: 'virtio-blk-pci', id: 'vd1', drive: 'd1', bus: 'rp1' });
    const duplicate = await client
      .execute('device_add', { driver: 'virtio-blk-pci', id: 'vd1', drive: 'd1', bus: 'rp2' })
      .catch((error: unknown) => error);
    expect(duplicate).toBeInstanceOf(QmpError);
    expect(duplicate).toMatchObject({
      class: 'GenericError',
      desc: "Duplicate device ID 'vd1'",
      command: 'device_add',
    });

    const since = client.marker();
    await client.execute('device_del', { id: 'vd1' });
    const deleted = await client.waitForEvent('DEVICE_DELETED', (e) => e.data.device === 'vd1', { since });
    expect(deleted.data.path).toBe('/machine/peripheral/vd1');
    expect(client.eventsSince(since).map((e) => e.event.data.path)).toEqual([
      '/machine/peripheral/vd1/virtio-backend',
      '/machine/peripheral/vd1',
    ]);
    await client.execute('blockdev-del', { 'node-name': 'd1' });
    await client.execute('blockdev-del', { 'node-name': 'f1' });
  });

  it('finds DEVICE_DELETED that arrives before the reply to device_del', async () => {
    const server = await fake.server((peer) => peer.play(eventsBeforeReply(loadTranscript('hotplug'))));
    const { client } = fake.client(server);
    await client.connect();
    for (const command of ['blockdev-add', 'blockdev-add', 'device_add']) await client.execute(command);
    await client.execute('device_add').catch(() => {});
    const since = client.marker();
    await client.execute('device_del', { id: 'vd1' });
    // Waiting from "now" would miss it: it came in before the reply.
    await expect(client.waitForEvent('DEVICE_DELETED', undefined, { timeoutMs: 50 })).rejects.toBeInstanceOf(
      QmpTimeoutError,
    );
    const deleted = await client.waitForEvent('DEVICE_DELETED', (e) => e.data.device === 'vd1', { since });
    expect(deleted.data.path).toBe('/machine/peripheral/vd1');
  });

  it('reports quit as SHUTDOWN, the reply, then a synthetic disconnect event', async () => {
    const server = await fake.server((peer) => peer.play(loadTranscript('quit')));
    const { client } = fake.client(server, { reconnect: false });
    await client.connect();
    const since = client.marker();
    await client.execute('quit');
    const gone = await client.waitForEvent(QMP_DISCONNECTED, undefined, { since });
    expect(gone).toMatchObject({ synthetic: true, data: { sawShutdown: true } });
    expect(String(gone.data.reason)).toContain('EOF');
    expect(client.eventsSince(since).map((e) => e.event.event)).toEqual(['SHUTDOWN', QMP_DISCONNECTED]);
    expect(client.state).toBe('disconnected');
    await expect(client.execute('query-status')).rejects.toBeInstanceOf(QmpDisconnectedError);
  });
});

/** The hotplug transcript with device_del's reply moved after its two DEVICE_DELETED events. */
function eventsBeforeReply(entries: TranscriptEntry[]): TranscriptEntry[] {
  const reply = entries.findIndex((e) => 'line' in e && e.from === 'qemu' && e.line.includes('"id": "r6"'));
  const moved = entries.slice();
  const [replyEntry] = moved.splice(reply, 1);
  if (!replyEntry) throw new Error('device_del reply not in the transcript');
  moved.splice(reply + 2, 0, replyEntry);
  return moved;
}
