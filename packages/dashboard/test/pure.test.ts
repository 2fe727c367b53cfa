/** The dashboard's pure helpers: merge patches, launch input, seq order, relative times. */
import { describe, expect, it } from 'vitest';
import { type LiveEvent, mergeNewestFirst, seqAfter } from '../src/api/events';
import { relative } from '../src/format';
import { initialSize, type LaunchCatalog, type LaunchForm, toInput } from '../src/launch-input';
import { mergePatch } from '../src/merge-patch';

describe('mergePatch', () => {
  it('sends changed and new keys, null for removed ones, and recurses into objects', () => {
    const from = { keep: 1, change: 'a', drop: true, nested: { x: 1, y: 2 } };
    const to = { keep: 1, change: 'b', added: [1], nested: { x: 1, z: 3 } };
    expect(mergePatch(from, to)).toEqual({ change: 'b', drop: null, added: [1], nested: { y: null, z: 3 } });
    expect(mergePatch(from, from)).toEqual({});
  });
});

describe('toInput', () => {
  const form: LaunchForm = {
    name: 'web',
    provisioner: 'demo',
    image: '',
    size: '',
    vcpu: '2',
    memoryMb: '1024',
    diskGb: '10',
    ttlHours: '1.5',
    labels: 'team=ml, env = dev',
    options: '{"delayMs": 100}',
  };
  it('builds the create input', () => {
    expect(toInput(form)).toEqual({
      input: {
        name: 'web',
        provisioner: 'demo',
        spec: { vcpu: 2, memoryMb: 1024, diskGb: 10 },
        ttlSeconds: 5400,
        labels: { team: 'ml', env: 'dev' },
        options: { delayMs: 100 },
      },
    });
  });
  it('names the field that does not parse', () => {
    expect(toInput({ ...form, labels: 'team' })).toEqual({ problem: 'labels: "team" is not key=value' });
    expect(toInput({ ...form, options: '{' })).toEqual({ problem: 'options: not valid JSON' });
  });

  const catalog: LaunchCatalog = {
    imageOption: 'image',
    images: [{ name: 'debian-12', description: null, isDefault: true }],
    sizeOption: 'gpuType',
    sizes: [
      { name: 'medium', description: null, vcpu: 2, memoryMb: 2048, diskGb: 20, gpu: null, isDefault: false },
      {
        name: 'A4000',
        description: null,
        vcpu: null,
        memoryMb: null,
        diskGb: 30,
        gpu: { count: 1, model: 'RTX A4000', memoryGb: 16 },
        isDefault: true,
      },
    ],
    anySpec: true,
  };
  it("puts catalog picks in the catalog's options fields and a size's shape in the spec", () => {
    const picked = toInput({ ...form, image: 'debian-12', size: 'medium' }, catalog);
    expect(picked).toMatchObject({
      input: {
        spec: { vcpu: 2, memoryMb: 2048, diskGb: 20 },
        options: { delayMs: 100, image: 'debian-12', gpuType: 'medium' },
      },
    });
    // What a size leaves open stays the form's; no size: all of it is.
    expect(toInput({ ...form, size: 'A4000' }, catalog)).toMatchObject({
      input: { spec: { vcpu: 2, memoryMb: 1024, diskGb: 30 }, options: { gpuType: 'A4000' } },
    });
    expect(toInput({ ...form, options: '' }, catalog)).toMatchObject({ input: { spec: { vcpu: 2, memoryMb: 1024 } } });
    expect(toInput({ ...form, options: '[1]', size: 'medium' }, catalog)).toEqual({
      problem: 'options: must be a JSON object to add the catalog choices to',
    });
    // Without a catalog, the image is free text in the spec.
    expect(toInput({ ...form, image: 'my-image' })).toMatchObject({ input: { spec: { image: 'my-image' } } });
  });

  it('starts on no size when any spec goes, else on the default size', () => {
    expect(initialSize(catalog)).toBe('');
    expect(initialSize({ ...catalog, anySpec: false })).toBe('A4000');
    expect(initialSize(null)).toBe('');
  });
});

describe('seqAfter', () => {
  it('orders decimal seqs beyond 2^53 without losing precision', () => {
    expect(seqAfter('10', '9')).toBe(true);
    expect(seqAfter('9', '10')).toBe(false);
    expect(seqAfter('9007199254740993', '9007199254740992')).toBe(true);
    expect(seqAfter('5', '5')).toBe(false);
  });
});

describe('relative', () => {
  const now = Date.parse('2030-01-01T12:00:00Z');
  it('says how far off a time is', () => {
    expect(relative('2030-01-01T12:00:02Z', now)).toBe('just now');
    expect(relative('2030-01-01T12:59:00Z', now)).toBe('in 59m');
    expect(relative('2030-01-01T10:00:00Z', now)).toBe('2h ago');
    expect(relative('2030-01-03T12:00:00Z', now)).toBe('in 2d');
  });
});

describe('mergeNewestFirst', () => {
  const ev = (seq: string): LiveEvent => ({
    seq,
    type: 'VM',
    action: 'a',
    severity: 'INFO',
    actorId: null,
    ownerId: null,
    resourceId: null,
    data: {},
    createdAt: '2026-01-01T00:00:00Z',
  });
  it('keeps each seq once, newest first, whether it came live or from an older page', () => {
    const page = [ev('12'), ev('11'), ev('9')];
    const merged = mergeNewestFirst(mergeNewestFirst(page, [ev('13'), ev('12')]), [ev('9'), ev('8'), ev('100')]);
    expect(merged.map((e) => e.seq)).toEqual(['100', '13', '12', '11', '9', '8']);
  });
});
