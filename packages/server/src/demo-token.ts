/**
 * The demo admin token of the embedded default: `slipway serve` prints it, and the dashboard's
 * sign-in page offers it (Query.demoToken). Only a zero-setup demo on a loopback address hands
 * it out: anyone who can reach such a server is on the same machine as its operator.
 */
import { mintToken } from './auth.js';
import type { ServerConfig } from './config.js';

export const DEMO_USER_ID = 'admin';

const LOOPBACK = /^(127(\.\d{1,3}){3}|localhost|::1|\[::1\])$/i;

/** True on the embedded database with the demo provisioner, listening on loopback only. */
export function offersDemoToken(config: ServerConfig): boolean {
  return config.embedded && config.provisionerDemo && LOOPBACK.test(config.host);
}

export function mintDemoToken(config: ServerConfig): Promise<string> {
  return mintToken({ secret: config.jwtSecret, userId: DEMO_USER_ID, role: 'admin', expiresIn: '30d' });
}
