/**
 * JWT bearer auth (HS256). `sub` is the account id, `role` is `user` (default) or `admin`.
 * A request without a valid token gets `actor = null`; the schema's scopes then answer
 * UNAUTHENTICATED for every field except the health check.
 */
import { AccountIdSchema, type Actor, type Role, SlipwayError } from '@slipway/core';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';

export interface MintTokenOptions {
  /** HS256 key; the server's SLIPWAY_JWT_SECRET. */
  secret: string;
  /** Account id, becomes `sub`. */
  userId: string;
  role?: Role;
  /** Relative ("30d", "2h", "15m") or seconds; default 1 hour. */
  expiresIn?: string | number;
}

const ClaimsSchema = z.object({
  sub: AccountIdSchema,
  role: z.enum(['user', 'admin']).default('user'),
});

const key = (secret: string) => new TextEncoder().encode(secret);

export async function mintToken(options: MintTokenOptions): Promise<string> {
  const userId = AccountIdSchema.safeParse(options.userId);
  if (!userId.success) {
    throw new SlipwayError('VALIDATION_FAILED', `userId: ${userId.error.issues[0]?.message ?? 'invalid'}`, {
      details: { field: 'userId' },
    });
  }
  const expiresIn = options.expiresIn ?? '1h';
  const jwt = new SignJWT({ role: options.role ?? 'user' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId.data)
    .setIssuedAt();
  try {
    // A number is a lifetime in seconds, as with `expiresIn` in most JWT libraries.
    jwt.setExpirationTime(typeof expiresIn === 'number' ? Math.floor(Date.now() / 1000) + expiresIn : expiresIn);
  } catch {
    throw new SlipwayError('VALIDATION_FAILED', `expiresIn: ${JSON.stringify(expiresIn)} is not a duration like 30d`, {
      details: { field: 'expiresIn' },
    });
  }
  return jwt.sign(key(options.secret));
}

/** Why a presented token was refused; goes into the UNAUTHENTICATED message. */
export type TokenProblem = 'expired' | 'invalid';

export type VerifyResult =
  /** `expiresAt`: the token's `exp`, when it has one (an event stream ends then). */
  { actor: Actor; problem: null; expiresAt: Date | null } | { actor: null; problem: TokenProblem };

export async function verifyToken(token: string, secret: string): Promise<VerifyResult> {
  try {
    const { payload } = await jwtVerify(token, key(secret), { algorithms: ['HS256'] });
    const claims = ClaimsSchema.safeParse(payload);
    if (!claims.success) return { actor: null, problem: 'invalid' };
    // An `exp` past what a Date holds is no expiry anyone will see.
    const exp = typeof payload.exp === 'number' ? new Date(payload.exp * 1000) : null;
    const expiresAt = exp && Number.isFinite(exp.getTime()) ? exp : null;
    return { actor: { id: claims.data.sub, role: claims.data.role }, problem: null, expiresAt };
  } catch (error) {
    return { actor: null, problem: error instanceof joseErrors.JWTExpired ? 'expired' : 'invalid' };
  }
}

/** Per request: the rate limit (plugins/request-rate-limit.ts) and the context both need the actor. */
const verified = new WeakMap<Request, Promise<VerifyResult | null>>();

/** The actor of an HTTP request: no Authorization header is anonymous, a bad one is a problem. Verified once per request. */
export function authenticate(request: Request, secret: string): Promise<VerifyResult | null> {
  let result = verified.get(request);
  if (!result) {
    result = authenticateHeader(request.headers.get('authorization'), secret);
    verified.set(request, result);
  }
  return result;
}

async function authenticateHeader(header: string | null, secret: string): Promise<VerifyResult | null> {
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1]) return { actor: null, problem: 'invalid' };
  return verifyToken(match[1], secret);
}

/** UNAUTHENTICATED saying why: no token, an expired one, or one that does not verify. */
export function unauthenticatedError(problem: TokenProblem | null): SlipwayError {
  const message =
    problem === 'expired'
      ? 'The bearer token has expired'
      : problem === 'invalid'
        ? 'The bearer token is invalid'
        : 'A bearer token is required (Authorization: Bearer <token>)';
  return new SlipwayError('UNAUTHENTICATED', message, problem ? { details: { reason: problem } } : {});
}
