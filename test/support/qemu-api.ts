/**
 * The QEMU provisioner through a real `slipway serve`: a config file around the test guest
 * (packages/provisioner-qemu/test/support/test-guest.ts), servers on one PostgreSQL database,
 * and the GraphQL calls the QEMU API tests make, unwrapped into data or a typed error.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mintToken } from '@slipway/server';
import { testConfig } from '../../packages/provisioner-qemu/test/support/test-guest.js';
import { gql, type ServerProcess, startServer } from './server-process.js';

const SECRET = 'qemu-api-test-secret-0123456789-abcdefghij';

export interface QemuServerSetup {
  readonly databaseUrl: string;
  readonly configPath: string;
}

/** Write the provisioner's config (the test guest as image `tiny`) next to the state dir. */
export function writeQemuConfig(dirs: { root: string; stateDir: string; base: string }): string {
  const path = join(dirs.root, 'qemu.json');
  writeFileSync(path, JSON.stringify(testConfig(dirs), null, 2));
  return path;
}

/** A server with the QEMU provisioner (and the demo ones, for a provisioner that lacks operations). */
export function startQemuServer(setup: QemuServerSetup): Promise<ServerProcess> {
  return startServer(
    {
      DATABASE_URL: setup.databaseUrl,
      SLIPWAY_JWT_SECRET: SECRET,
      SLIPWAY_QEMU_CONFIG: setup.configPath,
      PROVISIONER_DEMO: 'true',
      SLIPWAY_RATE_LIMIT_CREATES_PER_MINUTE: '0',
      // A replica restarted after kill -9 may serve its host again once the old heartbeat is stale.
      SLIPWAY_HOST_HEARTBEAT_MS: '1000',
      SLIPWAY_HOST_STALE_AFTER_MS: '6000',
    },
    60_000,
  );
}

/** After a crash: start again, while the dead replica's heartbeat is still fresh it refuses (HOST_IN_USE). */
export async function restartQemuServer(setup: QemuServerSetup, timeoutMs = 30_000): Promise<ServerProcess> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await startQemuServer(setup);
    } catch (error) {
      const hostInUse = error instanceof Error && error.message.includes('served by another live replica');
      if (!hostInUse || Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

export const tokenFor = (userId: string, role: 'user' | 'admin' = 'user') =>
  mintToken({ secret: SECRET, userId, role, expiresIn: '1h' });

export interface DeviceView {
  id: string;
  type: 'DISK' | 'NIC';
  state: 'ATTACHING' | 'ATTACHED' | 'DETACHING';
  sizeGb: number | null;
}

export interface ResourceView {
  id: string;
  status: string;
  ip: string | null;
  sshPort: number | null;
  host: string | null;
  externalId: string | null;
  cost: number;
  allowedActions: string[];
  spec: { vcpu: number; memoryMb: number };
  pendingSpec: { vcpu: number; memoryMb: number } | null;
  devices: DeviceView[];
  operation: { action: string } | null;
  lastOperation: { action: string; succeeded: boolean; code: string | null; error: string | null } | null;
}

/** A typed error answer (`... on Error`), with the extra fields of ConflictError and NotSupportedError. */
export interface ErrorView {
  __typename: string;
  code: string;
  message: string;
  operation?: string | null;
  capability?: string;
}

export type Answer = { data: ResourceView; error?: undefined } | { data?: undefined; error: ErrorView };

const RESOURCE = `id status ip sshPort host externalId cost allowedActions spec { vcpu memoryMb }
  pendingSpec { vcpu memoryMb } devices { id type state sizeGb } operation { action }
  lastOperation { action succeeded code error }`;

const OPERATION_ERRORS = '... on ConflictError { operation } ... on NotSupportedError { capability }';

const resultFields = (success: string, operation: boolean) => `__typename
  ... on ${success} { data { ${RESOURCE} } }
  ${operation ? OPERATION_ERRORS : ''}
  ... on Error { code message }`;

/** [parameters, arguments, whether it is an operation (may answer CONFLICT or NOT_SUPPORTED)] */
const MUTATIONS = {
  createResource: ['($input: CreateResourceInput!)', '(input: $input)', false],
  resourceAction: [
    '($id: ID!, $action: ResourceAction!, $wait: Boolean)',
    '(id: $id, action: $action, wait: $wait)',
    true,
  ],
  resizeResource: ['($id: ID!, $input: ResizeInput!)', '(id: $id, input: $input)', true],
  revertResize: ['($id: ID!)', '(id: $id)', true],
  attachDevice: ['($id: ID!, $input: AttachDeviceInput!)', '(id: $id, input: $input)', true],
  detachDevice: ['($id: ID!, $deviceId: ID!)', '(id: $id, deviceId: $deviceId)', true],
  releaseResource: ['($id: ID!)', '(id: $id)', false],
} as const;

export type MutationName = keyof typeof MUTATIONS;

/** One user's view of the API on one server. */
export class QemuApi {
  constructor(
    public url: string,
    private readonly token: string,
  ) {}

  async mutate(name: MutationName, variables: Record<string, unknown>): Promise<Answer> {
    const [params, args, operation] = MUTATIONS[name];
    const success = `Mutation${name[0]?.toUpperCase()}${name.slice(1)}Success`;
    const query = `mutation${params} { ${name}${args} { ${resultFields(success, operation)} } }`;
    const answer = (await this.request<Record<string, { __typename: string; data?: ResourceView }>>(query, variables))[
      name
    ];
    if (!answer) throw new Error(`${name}: no answer`);
    if (answer.__typename === success && answer.data) return { data: answer.data };
    return { error: answer as unknown as ErrorView };
  }

  /** The mutation's resource; any error answer fails the test with its message. */
  async ok(name: MutationName, variables: Record<string, unknown>): Promise<ResourceView> {
    const answer = await this.mutate(name, variables);
    if (answer.error) throw new Error(`${name} answered ${answer.error.code}: ${answer.error.message}`);
    return answer.data;
  }

  async resource(id: string): Promise<ResourceView> {
    return (
      await this.request<{ resource: ResourceView }>(`query($id: ID!) { resource(id: $id) { ${RESOURCE} } }`, {
        id,
      })
    ).resource;
  }

  /** A query that must fail (e.g. NOT_FOUND): the code of its first error. */
  async resourceErrorCode(id: string): Promise<string | undefined> {
    const r = await gql(this.url, this.token, 'query($id: ID!) { resource(id: $id) { id } }', { id });
    return r.errors?.[0]?.extensions?.code;
  }

  async wallet(): Promise<{ balance: number; held: number }> {
    return (await this.request<{ me: { balance: number; held: number } }>('{ me { balance held } }')).me;
  }

  async price(spec: { vcpu: number; memoryMb: number; diskGb: number }): Promise<number> {
    const query = `query($input: CreateResourceInput!) { quote(input: $input) {
      ... on QueryQuoteSuccess { data { price } } ... on Error { code message } } }`;
    const r = await this.request<{ quote: { data?: { price: number }; message?: string } }>(query, {
      input: { name: 'price', provisioner: 'qemu', spec },
    });
    if (!r.quote.data) throw new Error(`quote failed: ${r.quote.message}`);
    return r.quote.data.price;
  }

  /** The resource's events, oldest first. */
  async events(resourceId: string): Promise<{ action: string; data: Record<string, unknown>; createdAt: string }[]> {
    const r = await this.request<{ events: { action: string; data: Record<string, unknown>; createdAt: string }[] }>(
      'query($id: ID!) { events(resourceId: $id, first: 500) { action data createdAt } }',
      { id: resourceId },
    );
    return r.events;
  }

  async grant(accountId: string, amount: number): Promise<void> {
    const r = await this.request<{ grantCredits: { __typename: string; message?: string } }>(
      `mutation($input: GrantCreditsInput!) { grantCredits(input: $input) {
        __typename ... on Error { message } } }`,
      { input: { accountId, amount } },
    );
    if (r.grantCredits.__typename !== 'MutationGrantCreditsSuccess') throw new Error(r.grantCredits.message);
  }

  private async request<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const r = await gql<T>(this.url, this.token, query, variables);
    if (r.errors?.length || !r.data) throw new Error(`GraphQL errors: ${JSON.stringify(r.errors)}`);
    return r.data;
  }
}
