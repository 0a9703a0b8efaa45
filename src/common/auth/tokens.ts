import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** Constant-time comparison of two secrets of any length (hashing first equalises lengths). */
export function secretsEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb);
}

/** Compare against every admin token without stopping early, so timing tells nothing. */
export function matchesAnyAdminToken(candidate: string, adminTokens: readonly string[]): boolean {
  let match = false;
  for (const token of adminTokens) match = secretsEqual(candidate, token) || match;
  return match;
}

export function newTenantToken(): string {
  return `wpt_${randomBytes(24).toString('base64url')}`;
}

export function newAdminToken(): string {
  return `wpa_${randomBytes(24).toString('base64url')}`;
}
