import { Injectable } from '@nestjs/common';
import { decodeCursor, Page, toPage } from '../common/pagination';
import { Queryable, queryOne, queryRows } from '../database/sql';
import { LeaseView } from './dto/lease.dto';
import type { LeaseState } from './lease.entity';

export interface LeaseRow {
  id: string;
  pool_id: string;
  tenant_id: string | null;
  state: LeaseState;
  container_ids: string[];
  labels: Record<string, string>;
  waited_ms: number;
  created_at: Date;
  expires_at: Date;
  released_at: Date | null;
  ended_at: Date | null;
  end_reason: string | null;
}

export interface NewLease {
  id: string;
  poolId: string;
  tenantId: string | null;
  containerIds: string[];
  labels: Record<string, string>;
  ttlSeconds: number;
  /** Set when served from the waiting queue: the wait is measured from the request's arrival. */
  arrivedAt?: Date;
}

export interface LeaseListFilter {
  tenantId: string | null;
  state?: LeaseState;
  pool?: string;
  labels: Record<string, string>;
  limit: number;
  cursor?: string;
}

interface LeaseViewRow extends LeaseRow {
  pool_name: string;
  tenant_name: string | null;
}

interface ContainerViewRow {
  id: string;
  name: string;
  host_name: string;
  ip: string | null;
  template_version: number;
  ready_at: Date | null;
}

const iso = (d: Date | string): string => new Date(d).toISOString();

/** SQL for leases, their quota counters and idempotency records. */
@Injectable()
export class LeaseStore {
  /** The tenant's quota, taken in the lease's own transaction (a conditional update, no race). */
  async reserveQuota(db: Queryable, tenantId: string, count: number): Promise<boolean> {
    const row = await queryOne(
      db,
      `UPDATE tenants SET leased_containers = leased_containers + $2
        WHERE id = $1 AND leased_containers + $2 <= max_concurrent_containers
        RETURNING id`,
      [tenantId, count],
    );
    return row !== null;
  }

  quotaOf(db: Queryable, tenantId: string): Promise<{ leased: number; max: number } | null> {
    return queryOne(
      db,
      `SELECT leased_containers AS leased, max_concurrent_containers AS max FROM tenants WHERE id = $1`,
      [tenantId],
    );
  }

  async insert(db: Queryable, lease: NewLease): Promise<LeaseRow> {
    const row = await queryOne<LeaseRow>(
      db,
      `WITH created AS (
         INSERT INTO leases (id, pool_id, tenant_id, state, container_ids, labels, waited_ms,
                             created_at, expires_at)
         VALUES ($1, $2, $3, 'active', $4::uuid[], $5::jsonb,
                 CASE WHEN $7::timestamptz IS NULL THEN 0
                      ELSE greatest(0, (extract(epoch FROM clock_timestamp() - $7::timestamptz) * 1000)::int) END,
                 now(), now() + make_interval(secs => $6))
         RETURNING *
       ), ev AS (
         INSERT INTO events (type, pool_id, lease_id, details)
         SELECT 'lease.created', pool_id, id,
                jsonb_build_object('tenant', tenant_id, 'containers', cardinality(container_ids))
           FROM created
       )
       SELECT * FROM created`,
      [
        lease.id,
        lease.poolId,
        lease.tenantId,
        lease.containerIds,
        JSON.stringify(lease.labels),
        lease.ttlSeconds,
        lease.arrivedAt ?? null,
      ],
    );
    return row!;
  }

  /**
   * Insert the Idempotency-Key record; false when a live record for the key already
   * exists (a concurrent twin won). Expired records are simply replaced.
   */
  async recordIdempotency(
    db: Queryable,
    tenantKey: string,
    key: string,
    requestHash: string,
    leaseId: string,
  ): Promise<boolean> {
    const row = await queryOne(
      db,
      `INSERT INTO idempotency_records (tenant_key, key, request_hash, lease_id, created_at, expires_at)
       VALUES ($1, $2, $3, $4, now(), now() + interval '24 hours')
       ON CONFLICT (tenant_key, key) DO UPDATE
         SET request_hash = excluded.request_hash, lease_id = excluded.lease_id,
             created_at = excluded.created_at, expires_at = excluded.expires_at
         WHERE idempotency_records.expires_at <= now()
       RETURNING lease_id`,
      [tenantKey, key, requestHash, leaseId],
    );
    return row !== null;
  }

  findIdempotency(
    db: Queryable,
    tenantKey: string,
    key: string,
  ): Promise<{ request_hash: string; lease_id: string } | null> {
    return queryOne(
      db,
      `SELECT request_hash, lease_id FROM idempotency_records
        WHERE tenant_key = $1 AND key = $2 AND expires_at > now()`,
      [tenantKey, key],
    );
  }

  /** End active leases; returns those that were still active. */
  end(
    db: Queryable,
    ids: string[],
    state: Exclude<LeaseState, 'active'>,
    reason: string,
  ): Promise<LeaseRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return queryRows<LeaseRow>(
      db,
      `WITH ended AS (
         UPDATE leases SET state = $2, ended_at = now(), end_reason = $3,
                released_at = CASE WHEN $2 = 'released' THEN now() ELSE released_at END
          WHERE id = ANY($1::uuid[]) AND state = 'active'
         RETURNING *
       ), ev AS (
         INSERT INTO events (type, pool_id, lease_id, details)
         SELECT 'lease.' || $2, pool_id, id, jsonb_build_object('reason', $3::text) FROM ended
       )
       SELECT * FROM ended`,
      [ids, state, reason],
    );
  }

  /** Active leases whose TTL has passed, ended as expired in one statement. */
  expireDue(db: Queryable): Promise<LeaseRow[]> {
    return queryRows<LeaseRow>(
      db,
      `WITH ended AS (
         UPDATE leases SET state = 'expired', ended_at = now(), end_reason = 'ttl'
          WHERE state = 'active' AND expires_at <= now()
         RETURNING *
       ), ev AS (
         INSERT INTO events (type, pool_id, lease_id, details)
         SELECT 'lease.expired', pool_id, id, '{}'::jsonb FROM ended
       )
       SELECT * FROM ended`,
    );
  }

  byId(db: Queryable, id: string): Promise<LeaseRow | null> {
    return queryOne<LeaseRow>(db, `SELECT * FROM leases WHERE id = $1`, [id]);
  }

  async view(db: Queryable, id: string): Promise<LeaseView | null> {
    const rows = await queryRows<LeaseViewRow>(
      db,
      `SELECT l.*, p.name AS pool_name, t.name AS tenant_name
         FROM leases l JOIN pools p ON p.id = l.pool_id LEFT JOIN tenants t ON t.id = l.tenant_id
        WHERE l.id = $1`,
      [id],
    );
    return (await this.views(db, rows))[0] ?? null;
  }

  async list(db: Queryable, filter: LeaseListFilter): Promise<Page<LeaseView>> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (clause: (p: string) => string, value: unknown): void => {
      params.push(value);
      where.push(clause(`$${params.length}`));
    };
    if (filter.tenantId) add((p) => `l.tenant_id = ${p}`, filter.tenantId);
    if (filter.state) add((p) => `l.state = ${p}`, filter.state);
    if (filter.pool) add((p) => `p.name = ${p}`, filter.pool);
    if (Object.keys(filter.labels).length > 0) {
      add((p) => `l.labels @> ${p}::jsonb`, JSON.stringify(filter.labels));
    }
    const cursor = decodeCursor(filter.cursor);
    if (cursor) {
      params.push(cursor.at, cursor.id);
      where.push(
        `(l.created_at, l.id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`,
      );
    }
    params.push(filter.limit + 1);
    const rows = await queryRows<LeaseViewRow>(
      db,
      `SELECT l.*, p.name AS pool_name, t.name AS tenant_name
         FROM leases l JOIN pools p ON p.id = l.pool_id LEFT JOIN tenants t ON t.id = l.tenant_id
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY l.created_at DESC, l.id DESC
        LIMIT $${params.length}`,
      params,
    );
    const page = toPage(
      rows,
      filter.limit,
      (r) => ({ at: iso(r.created_at), id: r.id }),
      (r) => r,
    );
    return { items: await this.views(db, page.items), nextCursor: page.nextCursor };
  }

  /** Lease rows with their pool/tenant names → the API's lease shape (one query for containers). */
  async views(db: Queryable, rows: LeaseViewRow[]): Promise<LeaseView[]> {
    const ids = rows.flatMap((r) => r.container_ids);
    const containers =
      ids.length === 0
        ? []
        : await queryRows<ContainerViewRow>(
            db,
            `SELECT c.id, c.name, h.name AS host_name, host(c.ip) AS ip, c.template_version, c.ready_at
               FROM containers c JOIN hosts h ON h.id = c.host_id
              WHERE c.id = ANY($1::uuid[])`,
            [ids],
          );
    const byId = new Map(containers.map((c) => [c.id, c]));
    return rows.map((r) =>
      toLeaseView(r, r.pool_name, r.tenant_name, (id) => {
        const c = byId.get(id);
        return c ? { ...c, host: c.host_name } : null;
      }),
    );
  }
}

export interface LeaseContainerInfo {
  id: string;
  name: string;
  host: string;
  ip: string | null;
  template_version: number;
  ready_at: Date | null;
}

export function toLeaseView(
  row: LeaseRow,
  poolName: string,
  tenantName: string | null,
  container: (id: string) => LeaseContainerInfo | null,
): LeaseView {
  const view: LeaseView = {
    id: row.id,
    pool: poolName,
    tenant: tenantName,
    state: row.state,
    createdAt: iso(row.created_at),
    expiresAt: iso(row.expires_at),
    waitedMs: row.waited_ms,
    labels: row.labels,
    containers: row.container_ids.flatMap((id) => {
      const c = container(id);
      return c
        ? [
            {
              id: c.id,
              name: c.name,
              host: c.host,
              ip: c.ip ? c.ip.replace(/\/32$/, '') : null,
              templateVersion: c.template_version,
              readyAt: c.ready_at ? iso(c.ready_at) : null,
            },
          ]
        : [];
    }),
  };
  if (row.released_at) view.releasedAt = iso(row.released_at);
  if (row.ended_at) view.endedAt = iso(row.ended_at);
  return view;
}
