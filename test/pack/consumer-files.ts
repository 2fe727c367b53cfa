/**
 * The files of the consumer project the pack-and-install test writes outside the workspace: what an
 * embedder and a third-party plugin author would write, importing only the published packages.
 */
import { readFileSync } from 'node:fs';

/** Plain Node, no TypeScript, no export conditions: proves the published core is built JavaScript. */
export const CORE_SMOKE_MJS = `
import { createSlipway, demoProvisioner } from '@slipway/core';

const slipway = await createSlipway({ database: { dataDir: process.argv[2] }, provisioners: [demoProvisioner()] });
await slipway.accounts.grant({ id: 'ops', role: 'admin' }, { accountId: 'alice', amount: 100 });
const vm = await slipway.resources.create(
  { id: 'alice', role: 'user' },
  { name: 'smoke', provisioner: 'demo', spec: { vcpu: 1, memoryMb: 512, diskGb: 1 } },
);
await slipway.close();
console.log(JSON.stringify({ resolved: import.meta.resolve('@slipway/core'), status: vm.status }));
`;

/**
 * A provisioner written as a third party would: it imports only from '@slipway/core', with the
 * helpers the core exports for authors. A request labelled `slow` takes 5 s, for the abort check.
 */
export const HELLO_PROVISIONER_TS = `
import { allocationRecords, defineProvisioner, sleep } from '@slipway/core';

export const helloProvisioner = () =>
  defineProvisioner({
    name: 'hello',
    isDemo: true,
    async allocate(req, ctx) {
      // Idempotent on resourceId: a retry answers with the recorded machine.
      return allocationRecords(ctx.store).once(req, ctx, async (signal) => {
        await sleep(req.labels.slow ? 5_000 : 1, signal);
        return { resourceId: req.resourceId, externalId: \`hello-\${req.resourceId.slice(0, 8)}\`, ip: '127.0.0.1' };
      });
    },
    async release(allocation, ctx) {
      await allocationRecords(ctx.store).forget(allocation.resourceId);
    },
    async status(allocation, ctx) {
      return (await allocationRecords(ctx.store).get(allocation.resourceId)) ? { state: 'running' } : { state: 'gone' };
    },
  });
`;

export const HELLO_CONFORMANCE_TEST_TS = `
import { describeProvisionerConformance } from '@slipway/core/testing';
import { helloProvisioner } from '../src/hello-provisioner.js';

describeProvisionerConformance({
  create: helloProvisioner,
  slowRequest: (base) => ({ ...base, labels: { slow: 'yes' } }),
});
`;

/** What a consumer's TypeScript project would use; it typechecks everything against the shipped .d.ts. */
export const TSCONFIG_JSON = JSON.stringify({
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    skipLibCheck: true,
    types: ['node'],
    rootDir: '.',
    outDir: 'out',
  },
  include: ['src', 'test'],
});

/** The first ```ts block of a markdown file. */
export function firstTsBlock(markdownFile: string): string {
  const match = readFileSync(markdownFile, 'utf8').match(/```ts\n([\s\S]*?)```/);
  if (!match?.[1]) throw new Error(`no \`\`\`ts block in ${markdownFile}`);
  return match[1];
}
