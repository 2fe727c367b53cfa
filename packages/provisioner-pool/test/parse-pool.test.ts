import { describe, expect, it } from 'vitest';
import { DEMO_POOL, parsePool } from '../src/index.js';
import { machine, machines } from './helpers.js';

describe('parsePool', () => {
  it('accepts a bare array and fills defaults', () => {
    const result = parsePool([{ id: 'a', host: '10.0.0.1', size: { vcpu: 2, memoryMb: 2048, diskGb: 20 } }]);
    expect(result).toEqual({
      ok: true,
      machines: [
        {
          id: 'a',
          name: 'a',
          host: '10.0.0.1',
          sshPort: 22,
          cockpitUrl: null,
          size: { vcpu: 2, memoryMb: 2048, diskGb: 20 },
          labels: {},
          status: 'available',
        },
      ],
    });
  });

  it('accepts { "pool": [...] } as a value and as JSON text', () => {
    const pool = machines(3);
    const fromObject = parsePool({ pool });
    const fromText = parsePool(JSON.stringify({ pool }));
    expect(fromObject.ok && fromObject.machines.map((m) => m.id)).toEqual(['m-00', 'm-01', 'm-02']);
    expect(fromText).toEqual(fromObject);
    expect(parsePool(JSON.stringify(pool))).toEqual(fromObject);
  });

  it('lists every problem with its path', () => {
    const result = parsePool([
      ...machines(3),
      { id: 'bad one', host: 'not a host!', sshPort: 70_000, size: { vcpu: 0, memoryMb: 1024 }, status: 'broken' },
      { ...machine(9), cockpitUrl: 'ftp://x', labels: { zone: 3 }, cockpitURL: 'typo' },
    ]);
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    for (const path of [
      'pool[3].id:',
      'pool[3].host:',
      'pool[3].sshPort:',
      'pool[3].size.vcpu:',
      'pool[3].size.diskGb:',
      'pool[3].status:',
      'pool[4].cockpitUrl:',
      'pool[4].labels.zone:',
      'pool[4]:',
    ]) {
      expect(
        problems.some((p) => p.startsWith(path)),
        `${path} in ${problems.join('\n')}`,
      ).toBe(true);
    }
    expect(problems.find((p) => p.startsWith('pool[4]:'))).toContain('cockpitURL');
  });

  it('refuses duplicate ids', () => {
    const result = parsePool([...machines(2), machine(1)]);
    expect(result).toEqual({ ok: false, problems: ['pool[2].id: duplicate id "m-01" (also pool[1])'] });
  });

  it('refuses other shapes and bad JSON', () => {
    expect(parsePool({ machines: [] })).toEqual({
      ok: false,
      problems: ['pool: expected an array of machines or { "pool": [...] }'],
    });
    expect(parsePool({ pool: [], extra: 1 })).toEqual({
      ok: false,
      problems: ['pool: unexpected top-level key(s) extra'],
    });
    const bad = parsePool('[{"id":');
    expect(bad.ok === false && bad.problems[0]).toMatch(/^pool: not valid JSON/);
  });

  it('accepts IPv6 addresses and host names, and the demo pool', () => {
    const base = machine(0);
    expect(parsePool([{ ...base, host: '2001:db8::1' }]).ok).toBe(true);
    expect(parsePool([{ ...base, host: 'vm-1.pool.example.com' }]).ok).toBe(true);
    expect(parsePool(DEMO_POOL).ok).toBe(true);
  });
});
