import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, IsNull } from 'typeorm';
import { ConflictError, NotFoundError, ValidationFailedError } from '../common/errors';
import { ContainerStore } from '../containers/container.store';
import { queryRows } from '../database/sql';
import { EventsService } from '../events/events.service';
import { TemplateEntity } from '../templates/template.entity';
import { PatchPoolDto, PoolStatusView, PoolView, PutPoolDto } from './dto/pool.dto';
import { PoolEntity } from './pool.entity';
import { PoolSettings, settingsFromPatch, settingsFromPut } from './pool-rules';
import { ReconcileKicker } from '../coordination/reconcile-kicker';

@Injectable()
export class PoolsService {
  constructor(
    private readonly db: DataSource,
    private readonly events: EventsService,
    private readonly containers: ContainerStore,
    private readonly kicker: ReconcileKicker,
  ) {}

  private get repo() {
    return this.db.getRepository(PoolEntity);
  }

  async put(name: string, dto: PutPoolDto): Promise<{ pool: PoolView; created: boolean }> {
    const template = await this.templateNamed(dto.template);
    const settings = settingsFromPut(dto);
    const existing = await this.live(name);
    if (existing) {
      Object.assign(existing, settings, { templateId: template.id });
      await this.repo.save(existing);
      await this.events.record(this.db, [{ type: 'pool.updated', poolId: existing.id }]);
      this.kicker.kick();
      return { pool: await this.view(existing), created: false };
    }
    const pool = this.repo.create({
      id: randomUUID(),
      name,
      templateId: template.id,
      ...settings,
      state: 'active',
      lastTarget: settings.minReady,
      lastTargetReason: 'minReady',
    });
    await this.repo.save(pool);
    await this.events.record(this.db, [{ type: 'pool.created', poolId: pool.id }]);
    this.kicker.kick();
    return { pool: await this.view(pool), created: true };
  }

  async patch(name: string, dto: PatchPoolDto): Promise<PoolView> {
    const pool = await this.require(name);
    const templateId = dto.template ? (await this.templateNamed(dto.template)).id : pool.templateId;
    const settings = settingsFromPatch(pool as PoolSettings, dto);
    Object.assign(pool, settings, { templateId });
    await this.repo.save(pool);
    await this.events.record(this.db, [
      { type: 'pool.updated', poolId: pool.id, details: { fields: Object.keys(dto) } },
    ]);
    this.kicker.kick();
    return this.view(pool);
  }

  /**
   * Deleting drains: the name is free at once, ready containers are retired by the
   * reconciler and leased ones finish (or, with force, their leases are revoked now).
   */
  async remove(
    name: string,
    force: boolean,
    revoke: (leaseIds: string[]) => Promise<void>,
  ): Promise<void> {
    const pool = await this.require(name);
    const active = await queryRows<{ id: string }>(
      this.db,
      `SELECT id FROM leases WHERE pool_id = $1 AND state = 'active'`,
      [pool.id],
    );
    if (active.length > 0 && !force) {
      throw new ConflictError(
        `pool ${name} has ${active.length} active lease(s); release them or use ?force=true`,
        { activeLeases: active.length },
      );
    }
    if (active.length > 0) await revoke(active.map((l) => l.id));
    await this.db.transaction(async (tx) => {
      await tx.query(
        `UPDATE pools SET state = 'draining', deleted_at = now(), updated_at = now() WHERE id = $1`,
        [pool.id],
      );
      await tx.query(
        `UPDATE lease_requests SET state = 'rejected', rejection = 'pool_deleted'
          WHERE pool_id = $1 AND state = 'pending'`,
        [pool.id],
      );
      await this.events.record(tx, [{ type: 'pool.deleted', poolId: pool.id, details: { force } }]);
    });
    this.kicker.kick();
  }

  async list(): Promise<PoolView[]> {
    const pools = await this.repo.find({ where: { deletedAt: IsNull() }, order: { name: 'ASC' } });
    const status = await this.statuses();
    return Promise.all(pools.map((p) => this.view(p, status)));
  }

  async get(name: string): Promise<PoolView> {
    return this.view(await this.require(name));
  }

  live(name: string): Promise<PoolEntity | null> {
    return this.repo.findOne({ where: { name, deletedAt: IsNull() } });
  }

  async require(name: string): Promise<PoolEntity> {
    const pool = await this.live(name);
    if (!pool) throw NotFoundError.of('pool', name);
    return pool;
  }

  private async templateNamed(name: string): Promise<TemplateEntity> {
    const template = await this.db.getRepository(TemplateEntity).findOne({ where: { name } });
    if (!template) throw ValidationFailedError.field('template', `no template named ${name}`);
    return template;
  }

  /** Live status of every pool: container counts, waiting demand, last target. */
  private async statuses(): Promise<Map<string, Omit<PoolStatusView, 'target' | 'targetReason'>>> {
    const counts = await this.containers.countsByPool(this.db);
    const waiting = await queryRows<{ pool_id: string; n: number }>(
      this.db,
      `SELECT pool_id, sum(count)::int AS n FROM lease_requests
        WHERE state = 'pending' GROUP BY pool_id`,
    );
    const waitingByPool = new Map(waiting.map((w) => [w.pool_id, w.n]));
    const result = new Map<string, Omit<PoolStatusView, 'target' | 'targetReason'>>();
    const poolIds = new Set([...counts.keys(), ...waitingByPool.keys()]);
    for (const poolId of poolIds) {
      const c = counts.get(poolId) ?? {};
      const live = Object.values(c).reduce((a, b) => a + (b ?? 0), 0);
      result.set(poolId, {
        ready: c.ready ?? 0,
        provisioning: c.provisioning ?? 0,
        leased: c.leased ?? 0,
        recycling: c.recycling ?? 0,
        retiring: c.retiring ?? 0,
        failed: c.failed ?? 0,
        waiting: waitingByPool.get(poolId) ?? 0,
        utilization: live === 0 ? 0 : Math.round(((c.leased ?? 0) / live) * 1000) / 1000,
      });
    }
    return result;
  }

  private async view(
    pool: PoolEntity,
    statuses?: Map<string, Omit<PoolStatusView, 'target' | 'targetReason'>>,
  ): Promise<PoolView> {
    const status = (statuses ?? (await this.statuses())).get(pool.id) ?? {
      ready: 0,
      provisioning: 0,
      leased: 0,
      recycling: 0,
      retiring: 0,
      failed: 0,
      waiting: 0,
      utilization: 0,
    };
    const template = await this.db
      .getRepository(TemplateEntity)
      .findOne({ where: { id: pool.templateId }, select: ['name'] });
    return {
      id: pool.id,
      name: pool.name,
      template: template?.name ?? '',
      resources: pool.resources,
      minReady: pool.minReady,
      maxReady: pool.maxReady,
      maxTotal: pool.maxTotal,
      defaultLeaseSeconds: pool.defaultLeaseSeconds,
      maxLeaseSeconds: pool.maxLeaseSeconds,
      maxIdleSeconds: pool.maxIdleSeconds,
      scaleDownDelaySeconds: pool.scaleDownDelaySeconds,
      recycle: pool.recycle,
      schedules: pool.schedules,
      predictive: pool.predictive,
      state: pool.state,
      createdAt: pool.createdAt.toISOString(),
      updatedAt: pool.updatedAt.toISOString(),
      status: { ...status, target: pool.lastTarget, targetReason: pool.lastTargetReason },
    };
  }
}
