import { describe, expect, it } from 'vitest';
import { EventBacklog } from '../src/qmp/event-backlog.js';
import { QmpAbortedError, QmpBacklogOverflowError, QmpTimeoutError } from '../src/qmp/qmp-errors.js';
import type { QmpEvent } from '../src/qmp/qmp-message.js';
import { commandTimeoutMs, resolveTimeouts } from '../src/qmp/qmp-timeouts.js';

const event = (name: string, data: QmpEvent['data'] = {}): QmpEvent => ({
  event: name,
  data,
  timestamp: { seconds: 0, microseconds: 0 },
});

describe('EventBacklog', () => {
  it('finds an event that came after the marker but before the wait began', async () => {
    const backlog = new EventBacklog();
    backlog.push(event('DEVICE_DELETED', { device: 'old' }));
    const since = backlog.marker();
    backlog.push(event('DEVICE_DELETED', { path: '/machine/peripheral/vd1/virtio-backend' }));
    backlog.push(event('DEVICE_DELETED', { device: 'vd1', path: '/machine/peripheral/vd1' }));
    const found = await backlog.waitFor('DEVICE_DELETED', (e) => e.data.device === 'vd1', { since });
    expect(found.data.path).toBe('/machine/peripheral/vd1');
  });

  it('ignores events before the marker and waits for the next one', async () => {
    const backlog = new EventBacklog();
    backlog.push(event('RESET'));
    const waiting = backlog.waitFor('RESET', undefined, { since: backlog.marker() });
    backlog.push(event('STOP'));
    backlog.push(event('RESET', { guest: true }));
    expect((await waiting).data).toEqual({ guest: true });
  });

  it('fails a wait with a typed time-out or abort', async () => {
    const backlog = new EventBacklog();
    await expect(backlog.waitFor('SHUTDOWN', undefined, { timeoutMs: 10 })).rejects.toBeInstanceOf(QmpTimeoutError);
    const controller = new AbortController();
    const waiting = backlog.waitFor('SHUTDOWN', undefined, { signal: controller.signal });
    controller.abort(new Error('user gave up'));
    await expect(waiting).rejects.toBeInstanceOf(QmpAbortedError);
  });

  it('says so when a marker is older than what it still holds', async () => {
    const backlog = new EventBacklog(2);
    for (const name of ['A', 'B', 'C']) backlog.push(event(name));
    expect(() => backlog.since(0)).toThrow(QmpBacklogOverflowError);
    expect(backlog.since(1).map((e) => e.event.event)).toEqual(['B', 'C']);
    await expect(backlog.waitFor('A', undefined, { since: 0 })).rejects.toBeInstanceOf(QmpBacklogOverflowError);
  });

  it('keeps delivering when a listener throws', () => {
    const errors: unknown[] = [];
    const backlog = new EventBacklog(10, (error) => errors.push(error));
    const seen: number[] = [];
    backlog.subscribe(() => {
      throw new Error('listener bug');
    });
    backlog.subscribe((entry) => seen.push(entry.seq));
    backlog.push(event('A'));
    expect(seen).toEqual([1]);
    expect(errors).toHaveLength(1);
  });
});

describe('command time-outs', () => {
  it('gives device, block, netdev and run-state commands the long time-out', () => {
    const timeouts = resolveTimeouts();
    for (const command of ['device_add', 'device_del', 'blockdev-add', 'blockdev-del', 'netdev_add', 'cont', 'stop']) {
      expect(commandTimeoutMs(timeouts, command)).toBe(timeouts.slowMs);
    }
    expect(commandTimeoutMs(timeouts, 'system_reset')).toBe(30_000);
    expect(commandTimeoutMs(timeouts, 'query-status')).toBe(5_000);
  });

  it('lets the configuration override both', () => {
    const timeouts = resolveTimeouts({ defaultMs: 100, slowMs: 900, perCommand: { 'query-pci': 50 } });
    expect(commandTimeoutMs(timeouts, 'query-status')).toBe(100);
    expect(commandTimeoutMs(timeouts, 'device_add')).toBe(900);
    expect(commandTimeoutMs(timeouts, 'query-pci')).toBe(50);
  });
});
