/** `slipway token --user <id> [--role admin|user] [--expires 30d]`: print a JWT for the configured secret. */
import { parseArgs } from 'node:util';
import { SlipwayError } from '@slipway/core';
import { mintToken } from '../auth.js';
import { loadConfig } from '../config.js';

export async function token(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      user: { type: 'string', short: 'u' },
      role: { type: 'string', short: 'r', default: 'user' },
      expires: { type: 'string', short: 'e', default: '30d' },
    },
    strict: true,
  });
  if (!values.user) throw usage('--user <account id> is required');
  if (values.role !== 'user' && values.role !== 'admin') throw usage('--role must be user or admin');
  // Config after the arguments: a typo must not create a data dir (and secret) as a side effect.
  const config = loadConfig();
  const jwt = await mintToken({
    secret: config.jwtSecret,
    userId: values.user,
    role: values.role,
    expiresIn: values.expires,
  });
  // Only the token on stdout, so `TOKEN=$(slipway token --user alice)` works.
  process.stdout.write(`${jwt}\n`);
}

const usage = (problem: string) =>
  new SlipwayError(
    'VALIDATION_FAILED',
    `token: ${problem}\nusage: slipway token --user <id> [--role admin|user] [--expires 30d]`,
  );
