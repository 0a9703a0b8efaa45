import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { NotFoundError } from '../common/errors';
import { decodeCursor, Page, toPage } from '../common/pagination';
import { ReconcileKicker } from '../coordination/reconcile-kicker';
import { queryRows } from '../database/sql';
import { ContainerRow, ContainerStore } from './container.store';
import { ContainerView, ListContainersQuery } from './dto/container.dto';

type ContainerViewRow = ContainerRow & { pool_name: string; host_name: string };

const iso = (d: Date | null): string | null => (d ? new Date(d).toISOString() : null);

/** The admin view of containers, and destroying one on demand. */
@Injectable()
export class ContainersService {
  constructor(
    private readonly db: DataSource,
    private readonly store: ContainerStore,
    private readonly kicker: ReconcileKicker,
  ) {}

  async list(query: ListContainersQuery): Promise<Page<ContainerView>> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (clause: (p: string) => string, value: unknown): void => {
      params.push(value);
      where.push(clause(`$${params.length}`));
    };
    if (query.pool) add((p) => `p.name = ${p}`, query.pool);
    if (query.host) add((p) => `h.name = ${p}`, query.host);
    if (query.state) add((p) => `c.state = ${p}`, query.state);
    const cursor = decodeCursor(query.cursor);
    if (cursor) {
      params.push(cursor.at, cursor.id);
      where.push(
        `(c.created_at, c.id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`,
      );
    }
    const limit = query.limit ?? 50;
    params.push(limit + 1);
    const rows = await queryRows<ContainerViewRow>(
      this.db,
      `SELECT c.*, host(c.ip) AS ip, p.name AS pool_name, h.name AS host_name
         FROM containers c JOIN pools p ON p.id = c.pool_id JOIN hosts h ON h.id = c.host_id
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY c.created_at DESC, c.id DESC
        LIMIT $${params.length}`,
      params,
    );
    return toPage(
      rows,
      limit,
      (r) => ({ at: new Date(r.created_at).toISOString(), id: r.id }),
      toView,
    );
  }

  async get(id: string): Promise<ContainerView> {
    const rows = await queryRows<ContainerViewRow>(
      this.db,
      `SELECT c.*, host(c.ip) AS ip, p.name AS pool_name, h.name AS host_name
         FROM containers c JOIN pools p ON p.id = c.pool_id JOIN hosts h ON h.id = c.host_id
        WHERE c.id = $1`,
      [id],
    );
    if (rows.length === 0) throw NotFoundError.of('container', id);
    return toView(rows[0]);
  }

  /**
   * Destroy now. A leased container's lease is revoked (its other containers recycled);
   * one that a driver is working on is failed, and that work cleans up after itself.
   */
  async destroy(
    id: string,
    revoke: (leaseIds: string[]) => Promise<unknown>,
  ): Promise<ContainerView> {
    const [container] = await this.store.byIds(this.db, [id]);
    if (!container) throw NotFoundError.of('container', id);
    switch (container.state) {
      case 'ready':
        await this.store.transition(this.db, [id], 'retiring', {
          from: ['ready'],
          details: { reason: 'admin' },
        });
        break;
      case 'leased':
        await this.db.transaction((tx) =>
          this.store.endLeased(tx, { containerIds: [id] }, 'retiring', 'admin'),
        );
        if (container.lease_id) await revoke([container.lease_id]);
        break;
      case 'provisioning':
      case 'recycling':
        await this.store.transition(this.db, [id], 'failed', {
          from: ['provisioning', 'recycling'],
          error: 'destroyed by an admin',
        });
        break;
      default:
        break;
    }
    this.kicker.kick();
    return this.get(id);
  }
}

function toView(r: ContainerViewRow): ContainerView {
  return {
    id: r.id,
    name: r.name,
    pool: r.pool_name,
    host: r.host_name,
    state: r.state,
    ip: r.ip,
    templateVersion: r.template_version,
    leaseId: r.lease_id,
    error: r.error,
    createdAt: new Date(r.created_at).toISOString(),
    readyAt: iso(r.ready_at),
    leasedAt: iso(r.leased_at),
    recyclingAt: iso(r.recycling_at),
    retiringAt: iso(r.retiring_at),
    failedAt: iso(r.failed_at),
    destroyedAt: iso(r.destroyed_at),
  };
}
