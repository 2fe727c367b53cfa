/** The resource fields the tables and the machine page show. */
import { graphql, type ResultOf } from '../graphql';

export const RESOURCE_ROW = graphql(`
  fragment ResourceRow on Resource {
    id name ownerId provisioner status ip sshPort cockpitUrl cost expiresAt createdAt
  }
`);
export type ResourceRowData = ResultOf<typeof RESOURCE_ROW>;

export const ERROR_FIELDS = graphql(`
  fragment ErrorFields on Error { __typename code message }
`);

export const STATUSES = [
  'PROVISIONING',
  'RUNNING',
  'STOPPED',
  'RELEASING',
  'UNKNOWN',
  'FAILED',
  'RELEASED',
  'EXPIRED',
  'GONE',
] as const;
export type Status = (typeof STATUSES)[number];
export const LIVE_STATUSES: Status[] = ['PROVISIONING', 'RUNNING', 'STOPPED', 'RELEASING', 'UNKNOWN', 'FAILED'];

export function sshCommand(r: Pick<ResourceRowData, 'ip' | 'sshPort'>): string | null {
  if (!r.ip) return null;
  return r.sshPort && r.sshPort !== 22 ? `ssh -p ${r.sshPort} root@${r.ip}` : `ssh root@${r.ip}`;
}
