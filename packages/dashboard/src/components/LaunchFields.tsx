/** The launch form's fields and their translation into CreateResourceInput. */
import type { LaunchForm } from '../launch-input';

interface Props {
  form: LaunchForm;
  setForm: (f: LaunchForm) => void;
  provisioners: string[];
}

export function LaunchFields({ form, setForm, provisioners }: Props) {
  const field = (key: keyof LaunchForm) => ({
    id: `launch-${key}`,
    value: form[key],
    onInput: (e: { currentTarget: HTMLInputElement | HTMLTextAreaElement }) =>
      setForm({ ...form, [key]: e.currentTarget.value }),
  });
  return (
    <div class="grid">
      <label for="launch-name">Name</label>
      <input {...field('name')} required autoComplete="off" />
      <label for="launch-provisioner">Provisioner</label>
      <select
        id="launch-provisioner"
        value={form.provisioner}
        onChange={(e) => setForm({ ...form, provisioner: e.currentTarget.value })}
      >
        {provisioners.map((p) => (
          <option key={p} value={p}>
            {p}
          </option>
        ))}
      </select>
      <label for="launch-image">Image</label>
      <input {...field('image')} placeholder="provisioner default" />
      <label for="launch-vcpu">vCPU</label>
      <input {...field('vcpu')} type="number" min="0.25" step="0.25" />
      <label for="launch-memoryMb">RAM (MB)</label>
      <input {...field('memoryMb')} type="number" min="128" step="128" />
      <label for="launch-diskGb">Disk (GB)</label>
      <input {...field('diskGb')} type="number" min="0" />
      <label for="launch-ttlHours">TTL (hours)</label>
      <input {...field('ttlHours')} type="number" min="0" step="0.25" />
      <label for="launch-labels">Labels</label>
      <input {...field('labels')} placeholder="team=ml, env=dev" />
      <label for="launch-options">Options (JSON)</label>
      <textarea {...field('options')} rows={2} placeholder='{"delayMs": 2000}' />
    </div>
  );
}
