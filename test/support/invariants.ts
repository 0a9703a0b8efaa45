import { DataSource } from 'typeorm';
import { canTransition, ContainerState } from '../../src/containers/container-state';
import type { TestApp } from './test-app';

/**
 * Properties that must hold whatever happened: read from the database itself.
 * - every recorded container state change is legal in the state machine;
 * - a container is handed to at most one lease per ready period (never leased twice);
 * - each active lease's containers are leased to that lease and to no other;
 * - each tenant's quota counter equals the containers it really holds.
 */
export async function assertInvariants(t: TestApp): Promise<void> {
  const db = t.app.get(DataSource);
  const events: {
    container_id: string;
    from_state: ContainerState | null;
    to_state: ContainerState;
    lease_id: string | null;
  }[] = await db.query(
    `SELECT container_id, from_state, to_state, lease_id FROM events
        WHERE container_id IS NOT NULL ORDER BY id`,
  );
  const last = new Map<string, ContainerState>();
  for (const e of events) {
    const previous = last.get(e.container_id);
    if (previous !== undefined && e.from_state !== previous) {
      throw new Error(
        `container ${e.container_id}: event says ${e.from_state}→${e.to_state} but it was ${previous}`,
      );
    }
    if (e.from_state !== null && !canTransition(e.from_state, e.to_state)) {
      throw new Error(`container ${e.container_id}: illegal ${e.from_state}→${e.to_state}`);
    }
    last.set(e.container_id, e.to_state);
  }

  const leased: { id: string; lease_id: string | null; lease_state: string | null }[] =
    await db.query(
      `SELECT c.id, c.lease_id, l.state AS lease_state FROM containers c
       LEFT JOIN leases l ON l.id = c.lease_id WHERE c.state = 'leased'`,
    );
  for (const c of leased) {
    if (c.lease_state !== 'active') {
      throw new Error(
        `container ${c.id} is leased to ${c.lease_id}, whose state is ${c.lease_state}`,
      );
    }
  }
  const active: { id: string; container_ids: string[] }[] = await db.query(
    `SELECT id, container_ids FROM leases WHERE state = 'active'`,
  );
  const owner = new Map<string, string>();
  for (const lease of active) {
    for (const id of lease.container_ids) {
      if (owner.has(id))
        throw new Error(
          `container ${id} is in two active leases: ${owner.get(id)} and ${lease.id}`,
        );
      owner.set(id, lease.id);
    }
  }
  const heldByActive = new Set(leased.map((c) => c.id));
  for (const id of owner.keys()) {
    if (!heldByActive.has(id)) {
      // A container of an active lease may have been lost or destroyed by an admin, which
      // revokes the lease in the same breath; an active lease never silently loses one.
      throw new Error(`active lease ${owner.get(id)} lists container ${id}, which is not leased`);
    }
  }

  const quotas: { name: string; leased_containers: number; actual: number }[] = await db.query(
    `SELECT t.name, t.leased_containers,
            (SELECT count(*)::int FROM containers c JOIN leases l ON l.id = c.lease_id
              WHERE c.state = 'leased' AND l.tenant_id = t.id) AS actual
       FROM tenants t`,
  );
  for (const q of quotas) {
    if (q.leased_containers !== q.actual) {
      throw new Error(
        `tenant ${q.name}: quota counter ${q.leased_containers}, really holds ${q.actual}`,
      );
    }
  }
}
