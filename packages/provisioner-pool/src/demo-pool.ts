/** The built-in pool used in demo mode when no pool is configured; its hosts are documentation addresses. */
import type { PoolEntryInput } from './pool-entry.js';

export const DEMO_POOL: readonly PoolEntryInput[] = [
  {
    id: 'demo-small-1',
    name: 'Demo small 1',
    host: '192.0.2.11',
    cockpitUrl: 'https://192.0.2.11:9090/',
    size: { vcpu: 2, memoryMb: 4096, diskGb: 40 },
    labels: { tier: 'small' },
  },
  {
    id: 'demo-small-2',
    name: 'Demo small 2',
    host: '192.0.2.12',
    cockpitUrl: 'https://192.0.2.12:9090/',
    size: { vcpu: 2, memoryMb: 4096, diskGb: 40 },
    labels: { tier: 'small' },
  },
  {
    id: 'demo-large-1',
    name: 'Demo large 1',
    host: '192.0.2.21',
    cockpitUrl: 'https://192.0.2.21:9090/',
    size: { vcpu: 8, memoryMb: 32768, diskGb: 200 },
    labels: { tier: 'large', gpu: 'none' },
  },
  {
    id: 'demo-maint-1',
    name: 'Demo (maintenance)',
    host: '192.0.2.31',
    sshPort: 2222,
    size: { vcpu: 4, memoryMb: 8192, diskGb: 80 },
    labels: { tier: 'medium' },
    status: 'maintenance',
  },
];
