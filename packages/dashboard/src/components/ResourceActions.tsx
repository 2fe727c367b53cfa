/**
 * The actions a machine's allowedActions lists, each behind a confirmation; a refusal shows
 * the typed error the API answered (code and message).
 */
import { useState } from 'preact/hooks';
import { ApiError, mutate, unwrap } from '../api/client';
import { ERROR_FIELDS } from '../api/resource-fields';
import { graphql } from '../graphql';
import { Confirm } from './Confirm';
import { ErrorNote } from './ErrorNote';
import type { ResourceDetail } from './ResourcePage';

const PowerMutation = graphql(
  `mutation Power($id: ID!, $action: ResourceAction!) { resourceAction(id: $id, action: $action, wait: false) {
    ...ErrorFields ... on MutationResourceActionSuccess { data { id status } } } }`,
  [ERROR_FIELDS],
);
const ReleaseMutation = graphql(
  `mutation Release($id: ID!) { releaseResource(id: $id, wait: false) {
    ...ErrorFields ... on MutationReleaseResourceSuccess { data { id status } } } }`,
  [ERROR_FIELDS],
);
const ResizeMutation = graphql(
  `mutation Resize($id: ID!, $input: ResizeInput!) { resizeResource(id: $id, input: $input, wait: false) {
    ...ErrorFields ... on MutationResizeResourceSuccess { data { id status } } } }`,
  [ERROR_FIELDS],
);
const RevertResizeMutation = graphql(
  `mutation RevertResize($id: ID!) { revertResize(id: $id, wait: false) {
    ...ErrorFields ... on MutationRevertResizeSuccess { data { id status } } } }`,
  [ERROR_FIELDS],
);
const AttachMutation = graphql(
  `mutation Attach($id: ID!, $input: AttachDeviceInput!) { attachDevice(id: $id, input: $input, wait: false) {
    ...ErrorFields ... on MutationAttachDeviceSuccess { data { id status } } } }`,
  [ERROR_FIELDS],
);
const DetachMutation = graphql(
  `mutation Detach($id: ID!, $deviceId: ID!) { detachDevice(id: $id, deviceId: $deviceId, wait: false) {
    ...ErrorFields ... on MutationDetachDeviceSuccess { data { id status } } } }`,
  [ERROR_FIELDS],
);

type Action = ResourceDetail['allowedActions'][number];
const POWER = ['START', 'STOP', 'RESTART', 'RESET_HARD', 'RESET_SOFT'] as const;
type Power = (typeof POWER)[number];
const isPower = (a: Action): a is Power => (POWER as readonly string[]).includes(a);
const LABEL: Record<Action, string> = {
  START: 'Start',
  STOP: 'Stop',
  RESTART: 'Restart',
  RESET_HARD: 'Reset (hard)',
  RESET_SOFT: 'Reset (soft)',
  RESIZE: 'Resize',
  REVERT_RESIZE: 'Revert resize',
  ATTACH_DEVICE: 'Attach device',
  DETACH_DEVICE: 'Detach device',
  RELEASE: 'Release',
};

export function ResourceActions({ resource: r, onDone }: { resource: ResourceDetail; onDone: () => void }) {
  const [pending, setPending] = useState<Action | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [vcpu, setVcpu] = useState(String(r.spec.vcpu));
  const [memoryMb, setMemoryMb] = useState(String(r.spec.memoryMb));
  const [diskGb, setDiskGb] = useState('10');
  const [deviceId, setDeviceId] = useState(r.devices[0]?.id ?? '');

  const run = async (action: Action) => {
    const id = r.id;
    if (isPower(action)) return unwrap((await mutate(PowerMutation, { id, action })).resourceAction);
    switch (action) {
      case 'RELEASE':
        return unwrap((await mutate(ReleaseMutation, { id })).releaseResource);
      case 'RESIZE':
        return unwrap(
          (await mutate(ResizeMutation, { id, input: { vcpu: Number(vcpu), memoryMb: Number(memoryMb) } }))
            .resizeResource,
        );
      case 'REVERT_RESIZE':
        return unwrap((await mutate(RevertResizeMutation, { id })).revertResize);
      case 'ATTACH_DEVICE':
        return unwrap(
          (await mutate(AttachMutation, { id, input: { type: 'DISK', sizeGb: Number(diskGb) } })).attachDevice,
        );
      case 'DETACH_DEVICE':
        return unwrap((await mutate(DetachMutation, { id, deviceId })).detachDevice);
    }
  };
  const confirm = async () => {
    if (!pending) return;
    setBusy(true);
    try {
      await run(pending);
      setError(null);
      onDone();
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError('ERROR', String(e)));
    } finally {
      setBusy(false);
      setPending(null);
    }
  };

  return (
    <section aria-label="Actions" class="actions">
      <div class="row wrap">
        {r.allowedActions.map((a) => (
          <button
            type="button"
            key={a}
            class={a === 'RELEASE' ? 'danger' : ''}
            onClick={() => [setError(null), setPending(a)]}
          >
            {LABEL[a]}
          </button>
        ))}
        {r.allowedActions.length === 0 && <span class="muted">No actions allowed while {r.status}.</span>}
      </div>
      <ErrorNote error={error} />
      {pending && (
        <Confirm
          title={`${LABEL[pending]} ${r.name}?`}
          confirmLabel={LABEL[pending]}
          danger={pending === 'RELEASE' || pending.startsWith('RESET')}
          busy={busy}
          onConfirm={confirm}
          onCancel={() => setPending(null)}
        >
          {pending === 'RELEASE' && <p>The machine is destroyed and stops costing credits.</p>}
          {pending === 'RESIZE' && (
            <div class="grid">
              <label for="resize-vcpu">vCPU</label>
              <input id="resize-vcpu" type="number" value={vcpu} onInput={(e) => setVcpu(e.currentTarget.value)} />
              <label for="resize-mem">RAM (MB)</label>
              <input
                id="resize-mem"
                type="number"
                value={memoryMb}
                onInput={(e) => setMemoryMb(e.currentTarget.value)}
              />
            </div>
          )}
          {pending === 'ATTACH_DEVICE' && (
            <div class="grid">
              <label for="attach-size">Disk size (GB)</label>
              <input id="attach-size" type="number" value={diskGb} onInput={(e) => setDiskGb(e.currentTarget.value)} />
            </div>
          )}
          {pending === 'DETACH_DEVICE' && (
            <div class="grid">
              <label for="detach-id">Device</label>
              <select id="detach-id" value={deviceId} onChange={(e) => setDeviceId(e.currentTarget.value)}>
                {r.devices.map((d) => (
                  <option key={d.id} value={d.id}>
                    {d.type} {d.id}
                  </option>
                ))}
              </select>
            </div>
          )}
        </Confirm>
      )}
    </section>
  );
}
