/**
 * The JWT secret of the embedded default: generated once, kept in `<dataDir>/jwt-secret`
 * (mode 0600) and reused on restart, so tokens stay valid across restarts without setup.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SlipwayError } from '@slipway/core';

export const JWT_SECRET_FILE = 'jwt-secret';
export const MIN_JWT_SECRET_LENGTH = 32;

export function readOrCreateJwtSecret(dataDir: string): string {
  const file = join(dataDir, JWT_SECRET_FILE);
  mkdirSync(dataDir, { recursive: true });
  try {
    // `wx` fails when the file exists, so two processes starting at once keep one secret.
    writeFileSync(file, `${randomBytes(48).toString('base64url')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const secret = readFileSync(file, 'utf8').trim();
  if (secret.length < MIN_JWT_SECRET_LENGTH) {
    throw new SlipwayError(
      'CONFIG_INVALID',
      `SLIPWAY_JWT_SECRET: ${file} holds fewer than ${MIN_JWT_SECRET_LENGTH} characters; delete it to generate a new one`,
      { details: { variable: 'SLIPWAY_JWT_SECRET' } },
    );
  }
  return secret;
}
