import { Injectable } from '@nestjs/common';
import { Queryable, queryRows } from '../database/sql';
import { ContainerState, statesLeadingTo, STATE_TIMESTAMP } from './container-state';

export interface ContainerRow {
  id: string;
  name: string;
  pool_id: string;
  host_id: string;
  template_id: string;
  template_version: number;
  state: ContainerState;
  ip: string | null;
  lease_id: string | null;
  error: string | null;
  state_changed_at: Date;
  created_at: Date;
  ready_at: Date | null;
  leased_at: Date | null;
  recycling_at: Date | null;
  retiring_at: Date | null;
  failed_at: Date | null;
  destroyed_at: Date | null;
  from_state?: ContainerState;
}

export interface NewContainer {
  id: string;
  name: string;
  poolId: string;
  hostId: string;
  templateId: string;
  templateVersion: number;
  ip: string | null;
}

/** Which containers leave 'leased': all of some leases, or some containers. */
export type LeasedSelector = { leaseIds: string[] } | { containerIds: string[] };

/**
 * Every container state change is one guarded statement: it moves only rows still in a
 * legal `from` state (so a concurrent change is never overwritten), writes the event row
 * in the same statement, and returns what actually moved.
 */
@Injectable()
export class ContainerStore {
  /**
   * The hot path: up to `count` ready containers of the pool, oldest first, skipping rows
   * another transaction holds. The caller rolls back if fewer than `count` come back.
   */
  leaseReady(
    db: Queryable,
    poolId: string,
    count: number,
    leaseId: string,
  ): Promise<ContainerRow[]> {
    return queryRows<ContainerRow>(
      db,
      `WITH picked AS (
         SELECT id FROM containers
          WHERE pool_id = $1 AND state = 'ready'
          ORDER BY ready_at
          LIMIT $2
          FOR UPDATE SKIP LOCKED
       ), leased AS (
         UPDATE containers c
            SET state = 'leased', lease_id = $3, leased_at = now(), state_changed_at = now()
           FROM picked WHERE c.id = picked.id
         RETURNING c.*
       ), ev AS (
         INSERT INTO events (type, pool_id, container_id, lease_id, host_id, from_state, to_state)
         SELECT 'container.leased', pool_id, id, lease_id, host_id, 'ready', 'leased' FROM leased
       )
       SELECT * FROM leased ORDER BY ready_at`,
      [poolId, count, leaseId],
    );
  }

  /**
   * Move containers to `to` from any legal state (or the given subset). Leaving 'leased'
   * is not done here: it must also give back the tenant's quota (see endLeased).
   */
  transition(
    db: Queryable,
    ids: string[],
    to: ContainerState,
    options: { from?: ContainerState[]; error?: string; details?: Record<string, unknown> } = {},
  ): Promise<ContainerRow[]> {
    const from = (options.from ?? statesLeadingTo(to)).filter((s) => s !== 'leased');
    if (ids.length === 0 || from.length === 0) return Promise.resolve([]);
    const sets = [
      `state = $3`,
      `state_changed_at = now()`,
      `${STATE_TIMESTAMP[to]} = now()`,
      `error = coalesce($4::text, c.error)`,
    ];
    // A reset container is ready for a new lease: it belongs to none.
    if (to === 'ready' || to === 'destroyed') sets.push('lease_id = NULL');
    return queryRows<ContainerRow>(
      db,
      `WITH prior AS (
         SELECT id, state, lease_id FROM containers
          WHERE id = ANY($1::uuid[]) AND state = ANY($2::text[])
          FOR UPDATE
       ), moved AS (
         UPDATE containers c SET ${sets.join(', ')}
           FROM prior WHERE c.id = prior.id
         RETURNING c.*, prior.state AS from_state, prior.lease_id AS prior_lease_id
       ), ev AS (
         INSERT INTO events (type, pool_id, container_id, lease_id, host_id, from_state, to_state, details)
         SELECT 'container.' || $3, pool_id, id, prior_lease_id, host_id, from_state, $3, $5::jsonb
           FROM moved
       )
       SELECT * FROM moved`,
      [
        ids,
        from,
        to,
        options.error ?? null,
        JSON.stringify({
          ...(options.details ?? {}),
          ...(options.error ? { error: options.error } : {}),
        }),
      ],
    );
  }

  /** Containers leave 'leased' (release, expiry, revoke, loss) and their tenants get the quota back. */
  endLeased(
    db: Queryable,
    selector: LeasedSelector,
    to: 'recycling' | 'retiring' | 'failed',
    reason: string,
  ): Promise<ContainerRow[]> {
    const byLease = 'leaseIds' in selector;
    const ids = byLease ? selector.leaseIds : selector.containerIds;
    if (ids.length === 0) return Promise.resolve([]);
    return queryRows<ContainerRow>(
      db,
      `WITH prior AS (
         SELECT id, state, lease_id FROM containers
          WHERE ${byLease ? 'lease_id' : 'id'} = ANY($1::uuid[]) AND state = 'leased'
          FOR UPDATE
       ), moved AS (
         UPDATE containers c
            SET state = $2, state_changed_at = now(), ${STATE_TIMESTAMP[to]} = now()
           FROM prior WHERE c.id = prior.id
         RETURNING c.*, prior.state AS from_state
       ), ev AS (
         INSERT INTO events (type, pool_id, container_id, lease_id, host_id, from_state, to_state, details)
         SELECT 'container.' || $2, pool_id, id, lease_id, host_id, 'leased', $2,
                jsonb_build_object('reason', $3::text)
           FROM moved
       ), per_tenant AS (
         SELECT l.tenant_id, count(*)::int AS n
           FROM moved JOIN leases l ON l.id = moved.lease_id
          WHERE l.tenant_id IS NOT NULL
          GROUP BY l.tenant_id
       ), quota AS (
         UPDATE tenants t SET leased_containers = greatest(0, t.leased_containers - p.n)
           FROM per_tenant p WHERE t.id = p.tenant_id
         RETURNING t.id
       )
       SELECT * FROM moved`,
      [ids, to, reason],
    );
  }

  insertProvisioning(db: Queryable, containers: NewContainer[]): Promise<ContainerRow[]> {
    if (containers.length === 0) return Promise.resolve([]);
    return queryRows<ContainerRow>(
      db,
      `WITH input AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, name text, pool_id uuid,
                host_id uuid, template_id uuid, template_version int, ip inet)
       ), created AS (
         INSERT INTO containers (id, name, pool_id, host_id, template_id, template_version, state,
                                 ip, state_changed_at, created_at)
         SELECT id, name, pool_id, host_id, template_id, template_version, 'provisioning', ip,
                now(), now()
           FROM input
         RETURNING *
       ), ev AS (
         INSERT INTO events (type, pool_id, container_id, host_id, to_state)
         SELECT 'container.provisioning', pool_id, id, host_id, 'provisioning' FROM created
       )
       SELECT * FROM created`,
      [
        JSON.stringify(
          containers.map((c) => ({
            id: c.id,
            name: c.name,
            pool_id: c.poolId,
            host_id: c.hostId,
            template_id: c.templateId,
            template_version: c.templateVersion,
            ip: c.ip,
          })),
        ),
      ],
    );
  }

  byIds(db: Queryable, ids: string[]): Promise<ContainerRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return queryRows<ContainerRow>(db, `SELECT * FROM containers WHERE id = ANY($1::uuid[])`, [
      ids,
    ]);
  }

  inStates(db: Queryable, states: ContainerState[]): Promise<ContainerRow[]> {
    return queryRows<ContainerRow>(db, `SELECT * FROM containers WHERE state = ANY($1::text[])`, [
      states,
    ]);
  }

  /** Non-destroyed containers per pool and state. */
  async countsByPool(db: Queryable): Promise<Map<string, Partial<Record<ContainerState, number>>>> {
    const rows = await queryRows<{ pool_id: string; state: ContainerState; n: number }>(
      db,
      `SELECT pool_id, state, count(*)::int AS n FROM containers
        WHERE state <> 'destroyed' GROUP BY pool_id, state`,
    );
    const result = new Map<string, Partial<Record<ContainerState, number>>>();
    for (const row of rows) {
      const counts = result.get(row.pool_id) ?? {};
      counts[row.state] = row.n;
      result.set(row.pool_id, counts);
    }
    return result;
  }
}
