import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Semaphore } from '../common/semaphore';
import { ContainerRow, ContainerStore } from '../containers/container.store';
import { ContainerSpec, DriverError, ResourceLimits } from '../drivers/container-driver';
import { HostEntity } from '../hosts/host.entity';
import { HostsService } from '../hosts/hosts.service';
import { LeaseQueue } from '../leases/lease-queue';
import { MetricsService } from '../observability/metrics.service';

export interface PoolRef {
  id: string;
  name: string;
  resources: ResourceLimits;
  recycle: 'destroy' | 'reset';
  /** Deleted (draining) pools never reuse a container. */
  deleted: boolean;
}

export interface JobTarget {
  container: ContainerRow;
  host: HostEntity;
  pool: PoolRef;
  /** The golden image's ref on the host for the container's template version. */
  golden: string | null;
  /** Whether reset may put it back to ready (current template version, host active). */
  reusable: boolean;
}

/** Delay before retrying a container whose destroy failed: 1 s doubling to 2 min. */
const RETRY_BASE_MS = 1000;
const RETRY_MAX_MS = 120_000;

/**
 * The driver work behind container states, run by the leader in the background:
 * provisioning → ready, recycling → ready | destroyed, retiring/failed → destroyed.
 * Every outcome is written with a guarded transition, so work that lost a race (an
 * admin destroyed the container meanwhile) undoes itself instead of overwriting.
 */
@Injectable()
export class ContainerLifecycle {
  private readonly logger = new Logger('lifecycle');
  private readonly inFlight = new Set<string>();
  private readonly jobs = new Set<Promise<void>>();
  private readonly limiters = new Map<string, Semaphore>();
  private readonly retryAt = new Map<string, { at: number; attempts: number }>();

  constructor(
    private readonly db: DataSource,
    private readonly containers: ContainerStore,
    private readonly hosts: HostsService,
    private readonly queue: LeaseQueue,
    private readonly metrics: MetricsService,
  ) {}

  isBusy(containerId: string): boolean {
    return this.inFlight.has(containerId);
  }

  /** Not before its backoff after a failed attempt. */
  isDue(containerId: string, now = Date.now()): boolean {
    return (this.retryAt.get(containerId)?.at ?? 0) <= now;
  }

  inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Resolves when no job is running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.jobs.size > 0) await Promise.allSettled([...this.jobs]);
  }

  provision(job: JobTarget, onFailure: (poolId: string) => void): void {
    this.launch(job, async () => {
      const started = process.hrtime.bigint();
      const driver = this.hosts.driverOf(job.host);
      const target = this.hosts.target(job.host);
      const spec = this.spec(job);
      try {
        await driver.clone(target, spec);
        await driver.start(target, spec);
        await driver.healthcheck(target, spec.name);
      } catch (err) {
        await this.driverFailed(job, err, 'provision');
        onFailure(job.pool.id);
        await this.fail(job, err);
        return;
      }
      await this.hosts.recordSuccess(job.host);
      const moved = await this.containers.transition(this.db, [job.container.id], 'ready', {
        from: ['provisioning'],
      });
      if (moved.length === 0) {
        // Failed or destroyed while we worked (admin, stuck timeout): do not leave it running.
        await this.destroyNow(job, ['failed', 'retiring']);
        return;
      }
      this.metrics.provision.observe(
        { pool: job.pool.name, host: job.host.name },
        Number(process.hrtime.bigint() - started) / 1e9,
      );
      await this.queue.dispatch(job.pool.id);
    });
  }

  /** A released or expired container: reset and reuse, or destroy (the backfill replaces it). */
  recycle(job: JobTarget): void {
    this.launchLimited(job, async () => {
      const started = process.hrtime.bigint();
      const reuse = job.pool.recycle === 'reset' && !job.pool.deleted && job.reusable && job.golden;
      if (!reuse) {
        await this.destroyNow(job, ['recycling'], started);
        return;
      }
      try {
        await this.hosts.driverOf(job.host).reset(this.hosts.target(job.host), this.spec(job));
      } catch (err) {
        await this.driverFailed(job, err, 'reset');
        await this.fail(job, err);
        return;
      }
      const moved = await this.containers.transition(this.db, [job.container.id], 'ready', {
        from: ['recycling'],
        details: { reset: true },
      });
      this.metrics.recycle.observe(
        { pool: job.pool.name, host: job.host.name, policy: 'reset' },
        Number(process.hrtime.bigint() - started) / 1e9,
      );
      if (moved.length > 0) await this.queue.dispatch(job.pool.id);
    });
  }

  /** retiring or failed → destroyed. */
  destroy(job: JobTarget): void {
    this.launchLimited(job, () => this.destroyNow(job, [job.container.state]));
  }

  private async destroyNow(
    job: JobTarget,
    from: ContainerRow['state'][],
    recycleStarted?: bigint,
  ): Promise<void> {
    try {
      await this.hosts.driverOf(job.host).destroy(this.hosts.target(job.host), job.container.name);
    } catch (err) {
      await this.driverFailed(job, err, 'destroy');
      const previous = this.retryAt.get(job.container.id)?.attempts ?? 0;
      const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** previous);
      this.retryAt.set(job.container.id, { at: Date.now() + delay, attempts: previous + 1 });
      if (from.includes('recycling')) await this.fail(job, err);
      return;
    }
    this.retryAt.delete(job.container.id);
    await this.containers.transition(this.db, [job.container.id], 'destroyed', { from });
    if (recycleStarted !== undefined) {
      this.metrics.recycle.observe(
        { pool: job.pool.name, host: job.host.name, policy: 'destroy' },
        Number(process.hrtime.bigint() - recycleStarted) / 1e9,
      );
    }
  }

  /** Mark failed and try to remove what the host may hold of it. */
  private async fail(job: JobTarget, err: unknown): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    await this.containers.transition(this.db, [job.container.id], 'failed', {
      from: ['provisioning', 'recycling', 'retiring'],
      error: message.slice(0, 2000),
    });
    await this.destroyNow({ ...job, container: { ...job.container, state: 'failed' } }, ['failed']);
  }

  private async driverFailed(job: JobTarget, err: unknown, fallbackOp: string): Promise<void> {
    const op = err instanceof DriverError ? err.op : fallbackOp;
    const message = err instanceof Error ? err.message : String(err);
    this.metrics.driverErrors.inc({ host: job.host.name, op });
    this.logger.warn(`${op} of ${job.container.name} on ${job.host.name} failed: ${message}`);
    await this.hosts.recordFailure(job.host, op, message);
  }

  private spec(job: JobTarget): ContainerSpec {
    return {
      name: job.container.name,
      golden: job.golden ?? '',
      resources: job.pool.resources,
      ip: job.container.ip ? job.container.ip.replace(/\/32$/, '') : null,
    };
  }

  private launchLimited(job: JobTarget, work: () => Promise<void>): void {
    let limiter = this.limiters.get(job.host.id);
    if (!limiter)
      this.limiters.set(job.host.id, (limiter = new Semaphore(job.host.maxConcurrentProvisions)));
    limiter.setLimit(job.host.maxConcurrentProvisions);
    const bounded = limiter;
    this.launch(job, () => bounded.run(work));
  }

  private launch(job: JobTarget, work: () => Promise<void>): void {
    const id = job.container.id;
    if (this.inFlight.has(id)) return;
    this.inFlight.add(id);
    const running = work()
      .catch((err: Error) =>
        this.logger.error(`job for ${job.container.name} crashed: ${err.stack ?? err.message}`),
      )
      .finally(() => {
        this.inFlight.delete(id);
        this.jobs.delete(running);
      });
    this.jobs.add(running);
  }
}
