export type Principal =
  { kind: 'admin' } | { kind: 'tenant'; tenantId: string; tenantName: string };

/** The idempotency and ownership scope of a principal. */
export function principalKey(principal: Principal): string {
  return principal.kind === 'admin' ? 'admin' : principal.tenantId;
}
