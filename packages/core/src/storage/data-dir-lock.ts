/**
 * PGlite has no cross-process lock: two processes opening one data directory corrupt it.
 * We take a pid lockfile; a lock left by a process that no longer runs is taken over.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SlipwayError } from '../errors.js';

export function lockDataDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'slipway.lock');
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      let released = false;
      return () => {
        if (released) return;
        released = true;
        rmSync(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
        throw new SlipwayError(
          'CONFIG_INVALID',
          `data directory ${dir} is in use by process ${holder}; stop it or set SLIPWAY_DATA_DIR to another directory`,
          { details: { variable: 'SLIPWAY_DATA_DIR' } },
        );
      }
      rmSync(file, { force: true }); // stale: its process is gone
    }
  }
  throw new SlipwayError('CONFIG_INVALID', `could not lock data directory ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
