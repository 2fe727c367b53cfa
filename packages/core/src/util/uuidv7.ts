/**
 * Time-ordered ids (UUIDv7, RFC 9562): 48 bits of Unix milliseconds, then 74 random bits.
 * Keys the core mints (resources, reservations) are btree keys in several indexes: a random
 * v4 id lands on a random leaf page, so at a million rows every insert touches a page that
 * is likely not cached; a v7 id lands on the rightmost page, which always is
 * (docs/operations.md, "Sizing"). A valid uuid for every column and client; only the order changes.
 * Node 20 has no `crypto.randomUUIDv7`, and this is all of it.
 */
import { randomFillSync } from 'node:crypto';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A UUIDv7 for `ms` (default now); ids of one millisecond are in random order among themselves. */
export function uuidv7(ms: number = Date.now()): string {
  const b = randomFillSync(new Uint8Array(16));
  // 48-bit big-endian timestamp: Uint8Array stores only the low byte of each number.
  const high = Math.floor(ms / 2 ** 32);
  b[0] = high >>> 8;
  b[1] = high;
  b[2] = ms >>> 24;
  b[3] = ms >>> 16;
  b[4] = ms >>> 8;
  b[5] = ms;
  b[6] = ((b[6] as number) & 0x0f) | 0x70; // version 7
  b[8] = ((b[8] as number) & 0x3f) | 0x80; // variant 10
  const h = Array.from(b, (x) => HEX[x] as string).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
