/**
 * The launch form's fields. With a catalog, images and sizes are lists (a size fills vCPU/RAM/disk);
 * without one, or for what a size leaves open, vCPU/RAM/disk are typed in.
 */
import {
  chosenSize,
  imageList,
  initialSize,
  type LaunchCatalog,
  type LaunchForm,
  sizeLabel,
  sizeList,
} from '../launch-input';

export interface ProvisionerChoice {
  name: string;
  catalog: LaunchCatalog | null;
}

interface Props {
  form: LaunchForm;
  setForm: (f: LaunchForm) => void;
  provisioners: ProvisionerChoice[];
}

export function LaunchFields({ form, setForm, provisioners }: Props) {
  const catalog = provisioners.find((p) => p.name === form.provisioner)?.catalog ?? null;
  const size = chosenSize(form, catalog);
  const field = (key: keyof LaunchForm) => ({
    id: `launch-${key}`,
    value: form[key],
    onInput: (e: { currentTarget: HTMLInputElement | HTMLTextAreaElement }) =>
      setForm({ ...form, [key]: e.currentTarget.value }),
  });
  const pick = (key: 'image' | 'size') => ({
    id: `launch-${key}`,
    value: form[key],
    onChange: (e: { currentTarget: HTMLSelectElement }) => setForm({ ...form, [key]: e.currentTarget.value }),
  });
  const chooseProvisioner = (name: string) => {
    const next = provisioners.find((p) => p.name === name)?.catalog ?? null;
    // Names from one catalog mean nothing to another.
    setForm({ ...form, provisioner: name, image: '', size: initialSize(next) });
  };
  const defaultImage = catalog?.images.find((i) => i.isDefault)?.name;
  return (
    <div class="grid">
      <label for="launch-name">Name</label>
      <input {...field('name')} required autoComplete="off" />
      <label for="launch-provisioner">Provisioner</label>
      <select
        id="launch-provisioner"
        value={form.provisioner}
        onChange={(e) => chooseProvisioner(e.currentTarget.value)}
      >
        {provisioners.map((p) => (
          <option key={p.name} value={p.name}>
            {p.name}
          </option>
        ))}
      </select>
      <label for="launch-image">Image</label>
      {imageList(catalog) ? (
        <select {...pick('image')}>
          <option value="">Provisioner default{defaultImage ? ` (${defaultImage})` : ''}</option>
          {catalog?.images.map((i) => (
            <option key={i.name} value={i.name}>
              {i.description ? `${i.name} (${i.description})` : i.name}
            </option>
          ))}
        </select>
      ) : (
        <input {...field('image')} placeholder="provisioner default" />
      )}
      {sizeList(catalog) && (
        <>
          <label for="launch-size">Size</label>
          <select {...pick('size')}>
            {catalog?.anySpec && <option value="">Custom: vCPU, RAM and disk below</option>}
            {catalog?.sizes.map((s) => (
              <option key={s.name} value={s.name}>
                {sizeLabel(s)}
              </option>
            ))}
          </select>
        </>
      )}
      {size?.vcpu == null && (
        <>
          <label for="launch-vcpu">vCPU</label>
          <input {...field('vcpu')} type="number" min="0.25" step="0.25" />
        </>
      )}
      {size?.memoryMb == null && (
        <>
          <label for="launch-memoryMb">RAM (MB)</label>
          <input {...field('memoryMb')} type="number" min="128" step="128" />
        </>
      )}
      {size?.diskGb == null && (
        <>
          <label for="launch-diskGb">Disk (GB)</label>
          <input {...field('diskGb')} type="number" min="0" />
        </>
      )}
      <label for="launch-ttlHours">TTL (hours)</label>
      <input {...field('ttlHours')} type="number" min="0" step="0.25" />
      <label for="launch-labels">Labels</label>
      <input {...field('labels')} placeholder="team=ml, env=dev" />
      <label for="launch-options">Options (JSON)</label>
      <textarea {...field('options')} rows={2} placeholder='{"delayMs": 2000}' />
    </div>
  );
}
