import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { decodeCursor, Page, toPage } from '../common/pagination';
import { Queryable, queryRows } from '../database/sql';

export interface NewEvent {
  type: string;
  poolId?: string | null;
  containerId?: string | null;
  leaseId?: string | null;
  hostId?: string | null;
  fromState?: string | null;
  toState?: string | null;
  details?: Record<string, unknown>;
}

export interface EventView {
  id: string;
  at: string;
  type: string;
  pool: string | null;
  poolId: string | null;
  containerId: string | null;
  leaseId: string | null;
  host: string | null;
  fromState: string | null;
  toState: string | null;
  details: Record<string, unknown>;
}

export interface EventFilter {
  pool?: string;
  container?: string;
  since?: Date;
  limit: number;
  cursor?: string;
}

interface EventRow {
  id: string;
  at: Date;
  type: string;
  pool_id: string | null;
  pool_name: string | null;
  container_id: string | null;
  lease_id: string | null;
  host_name: string | null;
  from_state: string | null;
  to_state: string | null;
  details: Record<string, unknown>;
}

/** The audit log. Container state changes are written inside the statements that make them. */
@Injectable()
export class EventsService {
  constructor(private readonly db: DataSource) {}

  async record(db: Queryable, events: NewEvent[]): Promise<void> {
    if (events.length === 0) return;
    await db.query(
      `INSERT INTO events (type, pool_id, container_id, lease_id, host_id, from_state, to_state, details)
       SELECT e.type, e.pool_id, e.container_id, e.lease_id, e.host_id, e.from_state, e.to_state,
              coalesce(e.details, '{}'::jsonb)
         FROM jsonb_to_recordset($1::jsonb) AS e(type text, pool_id uuid, container_id uuid,
              lease_id uuid, host_id uuid, from_state text, to_state text, details jsonb)`,
      [
        JSON.stringify(
          events.map((e) => ({
            type: e.type,
            pool_id: e.poolId ?? null,
            container_id: e.containerId ?? null,
            lease_id: e.leaseId ?? null,
            host_id: e.hostId ?? null,
            from_state: e.fromState ?? null,
            to_state: e.toState ?? null,
            details: e.details ?? {},
          })),
        ),
      ],
    );
  }

  /** Newest first, keyset-paged on the id. */
  async list(filter: EventFilter): Promise<Page<EventView>> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (clause: string, value: unknown): void => {
      params.push(value);
      where.push(clause.replace('?', `$${params.length}`));
    };
    if (filter.pool) add('p.name = ?', filter.pool);
    if (filter.container) add('e.container_id = ?', filter.container);
    if (filter.since) add('e.at >= ?', filter.since);
    const cursor = decodeCursor(filter.cursor);
    if (cursor) add('e.id < ?::bigint', cursor.id);
    params.push(filter.limit + 1);
    const rows = await queryRows<EventRow>(
      this.db,
      `SELECT e.id::text AS id, e.at, e.type, e.pool_id, p.name AS pool_name, e.container_id,
              e.lease_id, h.name AS host_name, e.from_state, e.to_state, e.details
         FROM events e
         LEFT JOIN pools p ON p.id = e.pool_id
         LEFT JOIN hosts h ON h.id = e.host_id
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY e.id DESC
        LIMIT $${params.length}`,
      params,
    );
    return toPage(
      rows,
      filter.limit,
      (r) => ({ at: new Date(r.at).toISOString(), id: r.id }),
      (r) => ({
        id: r.id,
        at: new Date(r.at).toISOString(),
        type: r.type,
        pool: r.pool_name,
        poolId: r.pool_id,
        containerId: r.container_id,
        leaseId: r.lease_id,
        host: r.host_name,
        fromState: r.from_state,
        toState: r.to_state,
        details: r.details,
      }),
    );
  }
}
