/**
 * The container state machine (API.md "Container states"). Pure: every state change in
 * the service is checked against this table, and the SQL that performs it guards on the
 * same `from` states so a concurrent change can never be overwritten.
 */
export const CONTAINER_STATES = [
  'provisioning',
  'ready',
  'leased',
  'recycling',
  'retiring',
  'failed',
  'destroyed',
] as const;

export type ContainerState = (typeof CONTAINER_STATES)[number];

const TRANSITIONS: Record<ContainerState, readonly ContainerState[]> = {
  provisioning: ['ready', 'failed'],
  // ready → leased is the lease path; retiring is scale-down, idle age, rotation, admin destroy.
  ready: ['leased', 'retiring', 'failed'],
  // leased → retiring: an admin destroyed it under a lease (the lease is revoked).
  leased: ['recycling', 'retiring', 'failed'],
  // recycling ends destroyed (policy destroy) or ready again (policy reset).
  recycling: ['destroyed', 'ready', 'failed'],
  retiring: ['destroyed', 'failed'],
  failed: ['destroyed'],
  destroyed: [],
};

export function canTransition(from: ContainerState, to: ContainerState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** The states a container may be in for a change to `to` to be legal. */
export function statesLeadingTo(to: ContainerState): ContainerState[] {
  return CONTAINER_STATES.filter((from) => canTransition(from, to));
}

export class IllegalTransitionError extends Error {
  constructor(
    readonly from: ContainerState,
    readonly to: ContainerState,
  ) {
    super(`illegal container transition ${from} → ${to}`);
    this.name = 'IllegalTransitionError';
  }
}

export function assertTransition(from: ContainerState, to: ContainerState): void {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to);
}

/** States that hold a slot of the pool's maxTotal and of the host's maxContainers. */
export const LIVE_STATES: readonly ContainerState[] = CONTAINER_STATES.filter(
  (s) => s !== 'destroyed',
);

/** The timestamp column that records when a container entered each state. */
export const STATE_TIMESTAMP: Record<ContainerState, string> = {
  provisioning: 'created_at',
  ready: 'ready_at',
  leased: 'leased_at',
  recycling: 'recycling_at',
  retiring: 'retiring_at',
  failed: 'failed_at',
  destroyed: 'destroyed_at',
};
