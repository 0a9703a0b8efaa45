import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { ContainerState } from '../containers/container-state';
import { ContainerRow, ContainerStore, NewContainer } from '../containers/container.store';
import { channels, Coordination, Unsubscribe } from '../coordination/coordination';
import { ReconcileKicker } from '../coordination/reconcile-kicker';
import { queryRows } from '../database/sql';
import { CONTAINER_PREFIX } from '../drivers/container-driver';
import { HostEntity } from '../hosts/host.entity';
import { HostsService } from '../hosts/hosts.service';
import { freeAddresses, parseSubnet } from '../hosts/subnet';
import { LeaseQueue } from '../leases/lease-queue';
import { LeaseService } from '../leases/lease.service';
import { LeaseStore } from '../leases/lease.store';
import { MetricsService } from '../observability/metrics.service';
import { PoolEntity } from '../pools/pool.entity';
import { TemplateEntity } from '../templates/template.entity';
import { ContainerLifecycle, JobTarget, PoolRef } from './container-lifecycle';
import { LeaderElection } from './leader-election';
import { HostCapacity, placeContainers } from './placement';
import { activeScheduleMinReady } from './schedule';
import { computeTarget, planScaleDown, scaleUpCount } from './sizing-policy';
import { goldenKey, TemplateBuilder } from './template-builder';

export interface PassReport {
  leader: boolean;
  expiredLeases: number;
  failedStuck: number;
  provisioning: Record<string, number>;
  retired: Record<string, number>;
  recycling: number;
  destroying: number;
  templateBuilds: number;
  orphansDestroyed: number;
  lostContainers: number;
  leasesServed: number;
  durationMs: number;
}

/** Backoff of a pool whose launches fail: 1 s doubling to a minute. */
const POOL_BACKOFF_BASE_MS = 1000;
const POOL_BACKOFF_MAX_MS = 60_000;
const HOUSEKEEPING_INTERVAL_MS = 60_000;
const KICK_SPACING_MS = 50;

interface PoolCounts {
  byState: Partial<Record<ContainerState, number>>;
  live: number;
}

/**
 * Keeps every pool at its target (DESIGN.md "The reconciler"). One replica at a time runs
 * it (PostgreSQL advisory lock), a pass never overlaps itself, and kicks (after a lease, a
 * release, a config change) coalesce into the next pass.
 */
@Injectable()
export class ReconcilerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('reconciler');
  private running: Promise<PassReport> | null = null;
  private rerun = false;
  private kickScheduled = false;
  private stopped = false;
  private wasLeader = false;
  private lastOrphanScan = 0;
  private lastHousekeeping = 0;
  private lastPassEnded = 0;
  private readonly sightings = new Map<string, number>();
  private readonly poolBackoff = new Map<string, { until: number; failures: number }>();
  private unsubscribe: Unsubscribe | null = null;
  private offKick: (() => void) | null = null;

  constructor(
    private readonly db: DataSource,
    private readonly config: AppConfig,
    private readonly scheduler: SchedulerRegistry,
    private readonly leader: LeaderElection,
    private readonly containers: ContainerStore,
    private readonly leases: LeaseStore,
    private readonly leaseService: LeaseService,
    private readonly queue: LeaseQueue,
    private readonly hosts: HostsService,
    private readonly lifecycle: ContainerLifecycle,
    private readonly templates: TemplateBuilder,
    private readonly metrics: MetricsService,
    private readonly coordination: Coordination,
    private readonly kicker: ReconcileKicker,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.get('WARMPOOL_RECONCILER_ENABLED')) return;
    const timer = setInterval(
      () => this.trigger(),
      this.config.get('WARMPOOL_RECONCILE_INTERVAL_MS'),
    );
    this.scheduler.addInterval('reconcile', timer);
    this.offKick = this.kicker.onKick(() => this.trigger());
    this.unsubscribe = await this.coordination.subscribe(channels.reconcileKick, () =>
      this.trigger(),
    );
    this.trigger();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.scheduler.doesExist('interval', 'reconcile'))
      this.scheduler.deleteInterval('reconcile');
    this.offKick?.();
    await this.unsubscribe?.();
    await this.running?.catch(() => undefined);
    await this.lifecycle.idle();
    await this.templates.idle();
    await this.leader.release();
    this.metrics.leader.set(0);
  }

  /** Coalescing: kicks during a pass become one more pass after it. */
  trigger(): void {
    if (this.stopped || this.kickScheduled) return;
    this.kickScheduled = true;
    // At a high lease rate, kicked passes would run back to back in front of requests:
    // space them by a few tens of milliseconds (the backfill waits that much longer).
    const wait = Math.max(0, KICK_SPACING_MS - (Date.now() - this.lastPassEnded));
    setTimeout(() => {
      this.kickScheduled = false;
      if (this.running) {
        this.rerun = true;
        return;
      }
      void this.runPass().catch((err: Error) =>
        this.logger.error(`pass failed: ${err.stack ?? err.message}`),
      );
    }, wait);
  }

  /** Run one pass now (never two at once); with waitForJobs, also wait for the driver work it started. */
  async runPass(options: { waitForJobs?: boolean } = {}): Promise<PassReport> {
    while (this.running) await this.running.catch(() => undefined);
    this.running = this.pass();
    try {
      const report = await this.running;
      if (options.waitForJobs) {
        await this.lifecycle.idle();
        await this.templates.idle();
      }
      return report;
    } finally {
      this.running = null;
      this.lastPassEnded = Date.now();
      if (this.rerun && !this.stopped) {
        this.rerun = false;
        this.trigger();
      }
    }
  }

  private async pass(): Promise<PassReport> {
    const started = Date.now();
    const report: PassReport = {
      leader: false,
      expiredLeases: 0,
      failedStuck: 0,
      provisioning: {},
      retired: {},
      recycling: 0,
      destroying: 0,
      templateBuilds: 0,
      orphansDestroyed: 0,
      lostContainers: 0,
      leasesServed: 0,
      durationMs: 0,
    };
    const leading = await this.leader.tryLead();
    this.metrics.leader.set(leading ? 1 : 0);
    if (!leading) {
      this.wasLeader = false;
      return report;
    }
    report.leader = true;
    const newLeader = !this.wasLeader;
    this.wasLeader = true;
    const endTimer = this.metrics.reconcileDuration.startTimer();
    try {
      report.expiredLeases = await this.expireLeases();
      report.failedStuck = await this.failStuck(newLeader);
      const hosts = await this.hosts.all();
      report.templateBuilds = (await this.templates.pass(hosts)).started;
      await this.sizePools(hosts, report);
      await this.startPendingJobs(hosts, report);
      if (Date.now() - this.lastOrphanScan >= this.config.get('WARMPOOL_ORPHAN_SCAN_INTERVAL_MS')) {
        this.lastOrphanScan = Date.now();
        await this.scanHosts(hosts, report);
      }
      report.leasesServed = await this.serveWaiters();
      if (Date.now() - this.lastHousekeeping >= HOUSEKEEPING_INTERVAL_MS) {
        this.lastHousekeeping = Date.now();
        await this.housekeeping();
      }
    } finally {
      endTimer();
      report.durationMs = Date.now() - started;
    }
    return report;
  }

  /** 1. Leases past their TTL end as expired; their containers go to be recycled. */
  private async expireLeases(): Promise<number> {
    return this.db.transaction(async (tx) => {
      const expired = await this.leases.expireDue(tx);
      await this.containers.endLeased(
        tx,
        { leaseIds: expired.map((l) => l.id) },
        'recycling',
        'expired',
      );
      return expired.length;
    });
  }

  /**
   * 2. Containers stuck in a transitional state fail (and are then destroyed), even while a
   * worker still waits on the driver: its own guarded transition will then find the state
   * changed and clean up. A new leader also fails provisioning it is not doing itself:
   * whoever started it is gone.
   */
  private async failStuck(newLeader: boolean): Promise<number> {
    const timeoutMs = this.config.get('WARMPOOL_STUCK_TIMEOUT_SECONDS') * 1000;
    const now = Date.now();
    const rows = await this.containers.inStates(this.db, ['provisioning', 'recycling', 'retiring']);
    const stuck = rows.filter(
      (c) =>
        now - new Date(c.state_changed_at).getTime() > timeoutMs ||
        (newLeader && c.state === 'provisioning' && !this.lifecycle.isBusy(c.id)),
    );
    if (stuck.length === 0) return 0;
    const moved = await this.containers.transition(
      this.db,
      stuck.map((c) => c.id),
      'failed',
      {
        from: ['provisioning', 'recycling', 'retiring'],
        error: 'stuck: no progress before the timeout (or its worker is gone)',
      },
    );
    return moved.length;
  }

  /** 3–5. Target, scale up (waiters first), scale down, per pool. */
  private async sizePools(hosts: HostEntity[], report: PassReport): Promise<void> {
    const pools = await queryRows<PoolEntity & { id: string }>(
      this.db,
      `SELECT * FROM pools p
        WHERE p.deleted_at IS NULL
           OR EXISTS (SELECT 1 FROM containers c WHERE c.pool_id = p.id AND c.state <> 'destroyed')`,
    );
    if (pools.length === 0) return;
    const templates = new Map(
      (await this.db.getRepository(TemplateEntity).find()).map((t) => [t.id, t]),
    );
    const counts = await this.poolCounts();
    const waiting = await this.queue.waitingByPool();
    const goldens = await this.templates.goldenRefs({ readyOnly: true });
    const ready = await queryRows<{
      id: string;
      pool_id: string;
      host_id: string;
      ready_at: Date;
      template_id: string;
      template_version: number;
    }>(
      this.db,
      `SELECT id, pool_id, host_id, ready_at, template_id, template_version FROM containers WHERE state = 'ready'`,
    );
    const capacity = await this.hostCapacity(hosts);
    const now = new Date();
    const toCreate: NewContainer[] = [];
    const retireIds: string[] = [];

    for (const raw of pools) {
      const pool = mapPool(raw);
      const template = templates.get(pool.templateId);
      const poolCounts = counts.get(pool.id) ?? { byState: {}, live: 0 };
      const leased = poolCounts.byState.leased ?? 0;
      const deleted = pool.deletedAt !== null;
      const { target, reason } = deleted
        ? { target: 0, reason: 'minReady' as const }
        : computeTarget({
            minReady: pool.minReady,
            maxReady: pool.maxReady,
            maxTotal: pool.maxTotal,
            leased,
            scheduledMinReady: activeScheduleMinReady(pool.schedules, now),
            predicted: null,
          });
      this.metrics.poolTarget.set({ pool: pool.name }, target);

      const poolReady = ready.filter((c) => c.pool_id === pool.id);
      const isCurrent = (c: { template_id: string; template_version: number }): boolean =>
        template !== undefined &&
        c.template_id === template.id &&
        c.template_version === template.version;
      const hostUsable = new Map(hosts.map((h) => [h.id, h.state === 'active']));

      // Ready containers on draining/disabled hosts leave; the backfill replaces them elsewhere.
      const offHost = poolReady.filter((c) => !hostUsable.get(c.host_id));
      const onHost = poolReady.filter((c) => hostUsable.get(c.host_id));
      const plan = planScaleDown({
        target,
        ready: onHost.map((c) => ({
          id: c.id,
          readyAt: new Date(c.ready_at),
          templateVersion: isCurrent(c) ? 1 : 0,
        })),
        currentVersion: 1,
        now,
        excessSince: pool.excessSince,
        scaleDownDelaySeconds: deleted ? 0 : pool.scaleDownDelaySeconds,
        maxIdleSeconds: pool.maxIdleSeconds,
      });
      const retiring = [...offHost.map((c) => c.id), ...plan.retire.map((r) => r.id)];
      retireIds.push(...retiring);
      if (retiring.length) report.retired[pool.name] = retiring.length;

      let launch = 0;
      const backoff = this.poolBackoff.get(pool.id);
      if (!deleted && template?.state === 'ready' && !(backoff && backoff.until > Date.now())) {
        const readyCurrent =
          onHost.filter(isCurrent).length - plan.retire.filter((r) => r.reason === 'idle').length;
        launch = scaleUpCount({
          target,
          readyCurrent: Math.max(0, readyCurrent),
          provisioning: poolCounts.byState.provisioning ?? 0,
          returning: pool.recycle === 'reset' ? (poolCounts.byState.recycling ?? 0) : 0,
          waiting: waiting.get(pool.id) ?? 0,
          live: poolCounts.live,
          maxTotal: pool.maxTotal,
        });
      }
      if (launch > 0 && template) {
        const eligible = capacity.filter((h) =>
          goldens.has(goldenKey(template.id, template.version, h.hostId)),
        );
        for (const h of eligible) h.poolLive = h.perPool.get(pool.id) ?? 0;
        const placed = placeContainers(launch, eligible);
        for (const hostId of placed) {
          const host = capacity.find((h) => h.hostId === hostId)!;
          host.live++;
          host.provisioning++;
          host.perPool.set(pool.id, (host.perPool.get(pool.id) ?? 0) + 1);
          toCreate.push({
            id: randomUUID(),
            name: `${CONTAINER_PREFIX}${randomBytes(4).toString('hex')}`,
            poolId: pool.id,
            hostId,
            templateId: template.id,
            templateVersion: template.version,
            ip: null,
          });
        }
        if (placed.length) report.provisioning[pool.name] = placed.length;
      }

      const excessChanged =
        (plan.excessSince?.getTime() ?? null) !== (pool.excessSince?.getTime() ?? null);
      if (excessChanged || pool.lastTarget !== target || pool.lastTargetReason !== reason) {
        await this.db.query(
          `UPDATE pools SET excess_since = $2, last_target = $3, last_target_reason = $4 WHERE id = $1`,
          [pool.id, plan.excessSince, target, reason],
        );
      }
    }

    if (retireIds.length) {
      await this.containers.transition(this.db, retireIds, 'retiring', { from: ['ready'] });
    }
    if (toCreate.length) {
      await this.assignAddresses(toCreate, hosts, new Map(pools.map((p) => [p.id, mapPool(p)])));
      await this.containers.insertProvisioning(this.db, toCreate);
    }
  }

  /** Each new container gets the lowest free address of its host's subnet (none with network 'none'). */
  private async assignAddresses(
    created: NewContainer[],
    hosts: HostEntity[],
    pools: Map<string, PoolEntity>,
  ): Promise<void> {
    const byHost = new Map<string, NewContainer[]>();
    for (const c of created) {
      if (pools.get(c.poolId)?.resources.network === 'none') continue;
      byHost.set(c.hostId, [...(byHost.get(c.hostId) ?? []), c]);
    }
    for (const [hostId, list] of byHost) {
      const host = hosts.find((h) => h.id === hostId)!;
      const used = await queryRows<{ ip: string }>(
        this.db,
        `SELECT host(ip) AS ip FROM containers WHERE host_id = $1 AND state <> 'destroyed' AND ip IS NOT NULL`,
        [hostId],
      );
      const free = freeAddresses(
        parseSubnet(host.subnet),
        used.map((u) => u.ip),
        list.length,
      );
      list.forEach((c, i) => (c.ip = free[i] ?? null));
      const unaddressed = list.filter((c) => c.ip === null);
      if (unaddressed.length) {
        this.logger.warn(
          `host ${host.name}: subnet ${host.subnet} is full; ${unaddressed.length} container(s) not created`,
        );
        for (const c of unaddressed) created.splice(created.indexOf(c), 1);
      }
    }
  }

  /** Driver work for every container whose state asks for it and that nobody is working on. */
  private async startPendingJobs(hosts: HostEntity[], report: PassReport): Promise<void> {
    const rows = await this.containers.inStates(this.db, [
      'provisioning',
      'recycling',
      'retiring',
      'failed',
    ]);
    if (rows.length === 0) return;
    const context = await this.jobContext(rows, hosts);
    for (const row of rows) {
      if (this.lifecycle.isBusy(row.id) || !this.lifecycle.isDue(row.id)) continue;
      const job = context(row);
      if (!job) continue;
      switch (row.state) {
        case 'provisioning':
          this.lifecycle.provision(job, (poolId) => this.backOff(poolId));
          break;
        case 'recycling':
          this.lifecycle.recycle(job);
          report.recycling++;
          break;
        default:
          this.lifecycle.destroy(job);
          report.destroying++;
      }
    }
  }

  private async jobContext(
    rows: ContainerRow[],
    hosts: HostEntity[],
  ): Promise<(row: ContainerRow) => JobTarget | null> {
    const poolIds = [...new Set(rows.map((r) => r.pool_id))];
    const pools = new Map(
      (
        await queryRows<PoolEntity>(this.db, `SELECT * FROM pools WHERE id = ANY($1::uuid[])`, [
          poolIds,
        ])
      )
        .map(mapPool)
        .map((p) => [p.id, p]),
    );
    const templates = new Map(
      (await this.db.getRepository(TemplateEntity).find()).map((t) => [t.id, t]),
    );
    // A container keeps its golden's ref even while that build is being superseded.
    const goldens = await this.templates.goldenRefs({ readyOnly: false });
    return (row) => {
      const host = hosts.find((h) => h.id === row.host_id);
      const pool = pools.get(row.pool_id);
      if (!host || !pool) return null;
      const key = goldenKey(row.template_id, row.template_version, row.host_id);
      const template = templates.get(row.template_id);
      const poolRef: PoolRef = {
        id: pool.id,
        name: pool.name,
        resources: pool.resources,
        recycle: pool.recycle,
        deleted: pool.deletedAt !== null,
      };
      return {
        container: row,
        host,
        pool: poolRef,
        golden: goldens.get(key) ?? null,
        reusable:
          host.state === 'active' &&
          template !== undefined &&
          pool.templateId === row.template_id &&
          template.version === row.template_version,
      };
    };
  }

  /**
   * 6. What the hosts really hold: containers we do not know (seen twice, so one being
   * created right now is never taken) are destroyed; ours that vanished are failed.
   */
  private async scanHosts(hosts: HostEntity[], report: PassReport): Promise<void> {
    for (const host of hosts.filter((h) => h.state !== 'disabled' && h.resolvedDriver)) {
      let names: string[];
      try {
        names = await this.hosts.driverOf(host).list(this.hosts.target(host));
      } catch (err) {
        await this.hosts.recordFailure(host, 'list', (err as Error).message);
        continue;
      }
      const onHost = new Set(names);
      const known = await queryRows<{ id: string; name: string; state: ContainerState }>(
        this.db,
        `SELECT id, name, state FROM containers WHERE host_id = $1 AND state <> 'destroyed'`,
        [host.id],
      );
      const knownNames = new Set(known.map((k) => k.name));
      // "Two consecutive sightings": forget names this scan of the host did not see.
      for (const key of [...this.sightings.keys()]) {
        if (key.startsWith(`${host.id}/`) && !onHost.has(key.slice(host.id.length + 1))) {
          this.sightings.delete(key);
        }
      }
      for (const name of names) {
        const key = `${host.id}/${name}`;
        if (knownNames.has(name)) {
          this.sightings.delete(key);
          continue;
        }
        const seen = (this.sightings.get(key) ?? 0) + 1;
        this.sightings.set(key, seen);
        if (seen >= 2) {
          this.sightings.delete(key);
          report.orphansDestroyed++;
          this.logger.warn(`destroying orphan ${name} on ${host.name}`);
          await this.hosts
            .driverOf(host)
            .destroy(this.hosts.target(host), name)
            .catch((err: Error) => this.logger.warn(`orphan ${name}: ${err.message}`));
        }
      }
      const lost = known.filter(
        (k) =>
          (k.state === 'ready' || k.state === 'leased') &&
          !onHost.has(k.name) &&
          !this.lifecycle.isBusy(k.id),
      );
      if (lost.length === 0) continue;
      report.lostContainers += lost.length;
      await this.markLost(
        lost.filter((k) => k.state === 'ready').map((k) => k.id),
        lost.filter((k) => k.state === 'leased').map((k) => k.id),
      );
    }
  }

  private async markLost(readyIds: string[], leasedIds: string[]): Promise<void> {
    const error = 'the host no longer has this container';
    if (readyIds.length)
      await this.containers.transition(this.db, readyIds, 'failed', { from: ['ready'], error });
    if (leasedIds.length === 0) return;
    const affected = await this.containers.byIds(this.db, leasedIds);
    await this.db.transaction(async (tx) => {
      await this.containers.endLeased(tx, { containerIds: leasedIds }, 'failed', 'lost');
    });
    // A lease that lost a container is revoked; its other containers are recycled.
    const leaseIds = [
      ...new Set(affected.map((c) => c.lease_id).filter((id): id is string => !!id)),
    ];
    await this.leaseService.end(leaseIds, 'revoked', 'container_lost');
  }

  /** 7. Waiting requests of pools that have ready containers. */
  private async serveWaiters(): Promise<number> {
    const waiting = await this.queue.waitingByPool();
    let served = 0;
    for (const poolId of waiting.keys()) served += await this.queue.dispatch(poolId);
    return served;
  }

  private async housekeeping(): Promise<void> {
    await this.db.query(`DELETE FROM idempotency_records WHERE expires_at <= now()`);
    await this.db.query(
      `DELETE FROM lease_requests WHERE state <> 'pending' AND created_at < now() - interval '1 day'`,
    );
    // Requests whose handler died (replica crash) would otherwise count as demand forever.
    await this.db.query(
      `UPDATE lease_requests SET state = 'withdrawn' WHERE state = 'pending' AND deadline < now() - interval '1 minute'`,
    );
  }

  private backOff(poolId: string): void {
    const failures = (this.poolBackoff.get(poolId)?.failures ?? 0) + 1;
    const delay = Math.min(POOL_BACKOFF_MAX_MS, POOL_BACKOFF_BASE_MS * 2 ** (failures - 1));
    this.poolBackoff.set(poolId, { until: Date.now() + delay, failures });
  }

  private async poolCounts(): Promise<Map<string, PoolCounts>> {
    const counts = await this.containers.countsByPool(this.db);
    const result = new Map<string, PoolCounts>();
    for (const [poolId, byState] of counts) {
      result.set(poolId, {
        byState,
        live: Object.values(byState).reduce((a, b) => a + (b ?? 0), 0),
      });
    }
    return result;
  }

  /** Hosts that may take new containers now, with their current load. */
  private async hostCapacity(
    hosts: HostEntity[],
  ): Promise<(HostCapacity & { perPool: Map<string, number> })[]> {
    const rows = await queryRows<{
      host_id: string;
      pool_id: string;
      state: ContainerState;
      n: number;
    }>(
      this.db,
      `SELECT host_id, pool_id, state, count(*)::int AS n FROM containers
        WHERE state <> 'destroyed' GROUP BY host_id, pool_id, state`,
    );
    const now = Date.now();
    return hosts
      .filter(
        (h) =>
          h.state === 'active' &&
          (h.health === 'up' || !h.downUntil || h.downUntil.getTime() <= now),
      )
      .map((h) => {
        const mine = rows.filter((r) => r.host_id === h.id);
        const perPool = new Map<string, number>();
        for (const r of mine) perPool.set(r.pool_id, (perPool.get(r.pool_id) ?? 0) + r.n);
        return {
          hostId: h.id,
          name: h.name,
          live: mine.reduce((a, r) => a + r.n, 0),
          poolLive: 0,
          provisioning: mine.filter((r) => r.state === 'provisioning').reduce((a, r) => a + r.n, 0),
          maxContainers: h.maxContainers,
          maxConcurrentProvisions: h.maxConcurrentProvisions,
          perPool,
        };
      });
  }
}

/** Raw pool rows (snake_case) → the entity's shape. */
function mapPool(row: PoolEntity | Record<string, unknown>): PoolEntity {
  const r = row as Record<string, unknown>;
  if ('minReady' in r) return row as PoolEntity;
  return {
    id: r.id,
    name: r.name,
    templateId: r.template_id,
    resources: r.resources,
    minReady: r.min_ready,
    maxReady: r.max_ready,
    maxTotal: r.max_total,
    defaultLeaseSeconds: r.default_lease_seconds,
    maxLeaseSeconds: r.max_lease_seconds,
    maxIdleSeconds: r.max_idle_seconds,
    scaleDownDelaySeconds: r.scale_down_delay_seconds,
    recycle: r.recycle,
    schedules: r.schedules,
    predictive: r.predictive,
    state: r.state,
    excessSince: r.excess_since ? new Date(r.excess_since as string) : null,
    lastTarget: r.last_target,
    lastTargetReason: r.last_target_reason,
    deletedAt: r.deleted_at ? new Date(r.deleted_at as string) : null,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  } as PoolEntity;
}
