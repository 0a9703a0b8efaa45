import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { principalKey, Principal } from '../common/auth/principal';
import {
  ConflictError,
  IdempotencyMismatchError,
  NotFoundError,
  PoolExhaustedError,
  QuotaExceededError,
  UnavailableError,
  ValidationFailedError,
} from '../common/errors';
import { Page } from '../common/pagination';
import { ContainerRow, ContainerStore } from '../containers/container.store';
import { channels, Coordination } from '../coordination/coordination';
import { ReconcileKicker } from '../coordination/reconcile-kicker';
import { queryOne } from '../database/sql';
import { DriverError, ExecResult, ExecSink } from '../drivers/container-driver';
import { HostsService } from '../hosts/hosts.service';
import { MetricsService } from '../observability/metrics.service';
import { AppConfig } from '../config/app-config';
import { CreateLeaseDto, ExecDto, LeaseView, ListLeasesQuery } from './dto/lease.dto';
import { LeaseQueue, PendingRequest } from './lease-queue';
import { LeaseRow, LeaseStore, toLeaseView } from './lease.store';

export const MAX_EXEC_OUTPUT_BYTES = 1024 * 1024;

interface PoolForLease {
  id: string;
  name: string;
  default_lease_seconds: number;
  max_lease_seconds: number;
  max_total: number;
  has_waiters: boolean;
  /** The tenant's room under maxConcurrentContainers (null for an admin). */
  quota_room: number | null;
}

export interface CreatedLease {
  lease: LeaseView;
  /** 201 for a new lease, 200 when an Idempotency-Key replays an earlier one. */
  created: boolean;
}

/** Not enough ready containers right now (rolls the lease transaction back). */
class NotEnoughReady extends Error {}
/** A concurrent request with the same Idempotency-Key committed first. */
class IdempotencyRace extends Error {}
/** The tenant's quota has no room (the error is built after the rollback). */
class QuotaShort extends Error {}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

@Injectable()
export class LeaseService implements BeforeApplicationShutdown {
  private readonly hostNames = new Map<string, string>();
  /** Waiting requests give up when the service stops, instead of holding shutdown up. */
  private readonly shutdown = new AbortController();

  constructor(
    private readonly db: DataSource,
    private readonly store: LeaseStore,
    private readonly containers: ContainerStore,
    private readonly queue: LeaseQueue,
    private readonly coordination: Coordination,
    private readonly kicker: ReconcileKicker,
    private readonly hosts: HostsService,
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
  ) {}

  beforeApplicationShutdown(): void {
    this.shutdown.abort();
  }

  /**
   * POST /v1/leases. The warm path is one transaction with no driver call: quota, the
   * SKIP LOCKED update of ready containers, the lease row and the idempotency record.
   * Otherwise the request waits in the pool's queue until served or withdrawn.
   */
  async create(
    principal: Principal,
    dto: CreateLeaseDto,
    idempotencyKey?: string,
    abort?: AbortSignal,
  ): Promise<CreatedLease> {
    const started = process.hrtime.bigint();
    const tenantId = principal.kind === 'tenant' ? principal.tenantId : null;
    const pool = await this.poolForLease(dto.pool, tenantId);
    const count = dto.count ?? 1;
    const waitSeconds = dto.waitSeconds ?? 30;
    const ttlSeconds = dto.ttlSeconds ?? pool.default_lease_seconds;
    if (ttlSeconds > pool.max_lease_seconds) {
      throw ValidationFailedError.field(
        'ttlSeconds',
        `must be ≤ the pool's maxLeaseSeconds (${pool.max_lease_seconds})`,
      );
    }
    const labels = dto.labels ?? {};
    const tenantKey = principalKey(principal);
    const requestHash = idempotencyKey
      ? createHash('sha256')
          .update(
            canonical({
              pool: dto.pool,
              count,
              ttlSeconds: dto.ttlSeconds,
              waitSeconds,
              priority: dto.priority ?? 5,
              labels,
            }),
          )
          .digest('hex')
      : null;

    try {
      if (idempotencyKey) {
        const replay = await this.replay(
          tenantKey,
          idempotencyKey,
          requestHash!,
          waitSeconds,
          abort,
        );
        if (replay) return replay;
      }
      // A read without a lock: a tenant over its quota goes no further. The transaction
      // below still takes the quota with a conditional update, so a race cannot overdraw it.
      if (tenantId && pool.quota_room !== null && pool.quota_room < count) {
        throw await this.quotaError(tenantId, count);
      }
      // Waiters are ahead in the queue: a newcomer may not jump it.
      if (!pool.has_waiters) {
        try {
          const lease = await this.leaseNow(
            pool,
            tenantId,
            count,
            ttlSeconds,
            labels,
            tenantKey,
            idempotencyKey,
            requestHash,
          );
          this.observe(pool.name, 'leased', started);
          return {
            lease: await this.viewOfNew(lease.row, lease.containers, pool.name, principal),
            created: true,
          };
        } catch (err) {
          if (err instanceof IdempotencyRace) {
            const replay = await this.replay(
              tenantKey,
              idempotencyKey!,
              requestHash!,
              waitSeconds,
              abort,
            );
            if (replay) return replay;
          }
          if (!(err instanceof NotEnoughReady)) throw err;
        }
      }
      if (waitSeconds === 0) throw await this.exhausted(pool.id, pool.name, count);
      await this.checkQuotaRoom(tenantId, count);
      const lease = await this.waitForLease(
        pool,
        {
          tenantId,
          tenantKey,
          count,
          ttlSeconds,
          priority: dto.priority ?? 5,
          labels,
          idempotencyKey: idempotencyKey ?? null,
          requestHash,
          waitSeconds,
        },
        abort,
      );
      this.observe(pool.name, 'leased', started);
      return lease;
    } catch (err) {
      if (err instanceof PoolExhaustedError) this.metrics.countLease(pool.name, 'exhausted');
      else if (err instanceof QuotaExceededError) this.metrics.countLease(pool.name, 'quota');
      else if (!(err instanceof IdempotencyMismatchError))
        this.metrics.countLease(pool.name, 'error');
      throw err;
    }
  }

  async get(principal: Principal, id: string): Promise<LeaseView> {
    await this.ownLease(principal, id);
    return (await this.store.view(this.db, id))!;
  }

  list(principal: Principal, query: ListLeasesQuery): Promise<Page<LeaseView>> {
    const labels: Record<string, string> = {};
    for (const pair of query.label ?? []) {
      const at = pair.indexOf(':');
      labels[pair.slice(0, at)] = pair.slice(at + 1);
    }
    return this.store.list(this.db, {
      tenantId: principal.kind === 'tenant' ? principal.tenantId : null,
      state: query.state,
      pool: query.pool,
      labels,
      limit: query.limit ?? 50,
      cursor: query.cursor,
    });
  }

  /** New expiry = now + ttl, never past createdAt + the pool's maxLeaseSeconds. */
  async renew(principal: Principal, id: string, ttlSeconds: number): Promise<LeaseView> {
    const lease = await this.ownLease(principal, id);
    const max = await queryOne<{ max_lease_seconds: number }>(
      this.db,
      `SELECT max_lease_seconds FROM pools WHERE id = $1`,
      [lease.pool_id],
    );
    if (ttlSeconds > max!.max_lease_seconds) {
      throw ValidationFailedError.field(
        'ttlSeconds',
        `must be ≤ the pool's maxLeaseSeconds (${max!.max_lease_seconds})`,
      );
    }
    const renewed = await queryOne(
      this.db,
      `UPDATE leases SET expires_at = least(now() + make_interval(secs => $2),
                                            created_at + make_interval(secs => $3))
        WHERE id = $1 AND state = 'active' RETURNING id`,
      [id, ttlSeconds, max!.max_lease_seconds],
    );
    if (!renewed)
      throw new ConflictError(
        `lease ${id} is ${(await this.store.byId(this.db, id))!.state}, not active`,
      );
    return (await this.store.view(this.db, id))!;
  }

  /** Idempotent: releasing again answers the same body. Recycling happens after the response. */
  async release(principal: Principal, id: string): Promise<LeaseView> {
    await this.ownLease(principal, id);
    await this.end([id], 'released', 'released');
    return (await this.store.view(this.db, id))!;
  }

  /** End leases (release, revoke) and send their containers to be recycled. */
  async end(ids: string[], state: 'released' | 'revoked', reason: string): Promise<LeaseRow[]> {
    const ended = await this.db.transaction(async (tx) => {
      const rows = await this.store.end(tx, ids, state, reason);
      await this.containers.endLeased(tx, { leaseIds: rows.map((r) => r.id) }, 'recycling', reason);
      return rows;
    });
    if (ended.length > 0) this.kicker.kick();
    return ended;
  }

  /**
   * Check everything that can fail with a 4xx first and return the run itself, so a
   * streaming response only starts once the command is really going to run.
   */
  async prepareExec(
    principal: Principal,
    id: string,
    dto: ExecDto,
  ): Promise<(sink?: ExecSink) => Promise<ExecResult>> {
    const lease = await this.ownLease(principal, id);
    if (lease.state !== 'active')
      throw new ConflictError(`lease ${id} is ${lease.state}, not active`);
    const containerId = dto.container?.toLowerCase() ?? lease.container_ids[0];
    if (!lease.container_ids.includes(containerId)) {
      throw new NotFoundError(`container ${containerId} is not part of lease ${id}`);
    }
    const [container] = await this.containers.byIds(this.db, [containerId]);
    if (!container || container.state !== 'leased' || container.lease_id !== id) {
      throw new ConflictError(
        `container ${containerId} is no longer leased (it was revoked or lost)`,
      );
    }
    const host = await this.hosts.byId(container.host_id);
    if (!host) throw new ConflictError(`container ${containerId} has no host`);
    const driver = this.hosts.driverOf(host);
    const target = this.hosts.target(host);
    return async (sink) => {
      try {
        return await driver.exec(
          target,
          container.name,
          {
            command: dto.command,
            env: dto.env,
            stdin: dto.stdin,
            timeoutMs: (dto.timeoutSeconds ?? 600) * 1000,
            maxOutputBytes: MAX_EXEC_OUTPUT_BYTES,
          },
          sink,
        );
      } catch (err) {
        if (!(err instanceof DriverError)) throw err;
        this.metrics.driverErrors.inc({ host: host.name, op: 'exec' });
        throw new UnavailableError(`exec failed on host ${host.name}: ${err.message}`);
      }
    };
  }

  /** The caller's lease, or 404 whether it does not exist or belongs to someone else. */
  private async ownLease(principal: Principal, id: string): Promise<LeaseRow> {
    const lease = await this.store.byId(this.db, id);
    if (!lease || (principal.kind === 'tenant' && lease.tenant_id !== principal.tenantId)) {
      throw NotFoundError.of('lease', id);
    }
    return lease;
  }

  private async poolForLease(name: string, tenantId: string | null): Promise<PoolForLease> {
    const pool = await queryOne<PoolForLease>(
      this.db,
      `SELECT p.id, p.name, p.default_lease_seconds, p.max_lease_seconds, p.max_total,
              EXISTS (SELECT 1 FROM lease_requests r
                       WHERE r.pool_id = p.id AND r.state = 'pending' AND r.deadline > now()) AS has_waiters,
              (SELECT t.max_concurrent_containers - t.leased_containers
                 FROM tenants t WHERE t.id = $2) AS quota_room
         FROM pools p WHERE p.name = $1 AND p.deleted_at IS NULL`,
      [name, tenantId],
    );
    if (!pool) throw NotFoundError.of('pool', name);
    return pool;
  }

  private async leaseNow(
    pool: PoolForLease,
    tenantId: string | null,
    count: number,
    ttlSeconds: number,
    labels: Record<string, string>,
    tenantKey: string,
    idempotencyKey: string | undefined,
    requestHash: string | null,
  ): Promise<{ row: LeaseRow; containers: ContainerRow[] }> {
    // Nothing in here may use this.db: embedded PGlite has one connection, held by tx.
    const result = await this.db
      .transaction(async (tx) => {
        const leaseId = randomUUID();
        const taken = await this.containers.leaseReady(tx, pool.id, count, leaseId);
        if (taken.length < count) throw new NotEnoughReady();
        const row = await this.store.insert(tx, {
          id: leaseId,
          poolId: pool.id,
          tenantId,
          containerIds: taken.map((c) => c.id),
          labels,
          ttlSeconds,
        });
        if (
          idempotencyKey &&
          !(await this.store.recordIdempotency(
            tx,
            tenantKey,
            idempotencyKey,
            requestHash!,
            leaseId,
          ))
        ) {
          throw new IdempotencyRace();
        }
        // The tenant row is locked last, so a tenant's concurrent leases queue on it only for
        // this statement and the commit. Lock order stays deadlock-free: the containers were
        // taken with SKIP LOCKED, and whoever holds a tenant row never waits on ready ones.
        if (tenantId && !(await this.store.reserveQuota(tx, tenantId, count))) {
          throw new QuotaShort();
        }
        return { row, containers: taken };
      })
      .catch(async (err: unknown) => {
        if (err instanceof QuotaShort) throw await this.quotaError(tenantId!, count);
        throw err;
      });
    // A lease just lowered the ready count: let the reconciler backfill now.
    this.kicker.kick();
    return result;
  }

  /**
   * An Idempotency-Key seen before: the original lease (200), a 422 for another body, or,
   * while the original request is still waiting, wait for that same request.
   */
  private async replay(
    tenantKey: string,
    key: string,
    requestHash: string,
    waitSeconds: number,
    abort?: AbortSignal,
  ): Promise<CreatedLease | null> {
    const record = await this.store.findIdempotency(this.db, tenantKey, key);
    if (record) {
      if (record.request_hash !== requestHash) {
        throw new IdempotencyMismatchError(
          'this Idempotency-Key was used with a different request body',
        );
      }
      return { lease: (await this.store.view(this.db, record.lease_id))!, created: false };
    }
    const pending = await this.queue.pendingWithKey(tenantKey, key);
    if (!pending) return null;
    if (pending.request_hash !== requestHash) {
      throw new IdempotencyMismatchError(
        'this Idempotency-Key was used with a different request body',
      );
    }
    const outcome = await this.awaitRequest(pending, Date.now() + waitSeconds * 1000, abort);
    if (outcome?.state === 'fulfilled') {
      return { lease: (await this.store.view(this.db, outcome.lease_id!))!, created: false };
    }
    // The original is still waiting (or gave up): this twin does not withdraw it.
    throw await this.exhausted(pending.pool_id, null, pending.count);
  }

  private async waitForLease(
    pool: PoolForLease,
    request: {
      tenantId: string | null;
      tenantKey: string;
      count: number;
      ttlSeconds: number;
      priority: number;
      labels: Record<string, string>;
      idempotencyKey: string | null;
      requestHash: string | null;
      waitSeconds: number;
    },
    abort?: AbortSignal,
  ): Promise<CreatedLease> {
    let pending: PendingRequest;
    try {
      pending = await this.queue.enqueue({ poolId: pool.id, ...request });
    } catch (err) {
      // A twin with the same key queued first: wait for that one instead.
      if (request.idempotencyKey && (err as { code?: string }).code === '23505') {
        const replay = await this.replay(
          request.tenantKey,
          request.idempotencyKey,
          request.requestHash!,
          request.waitSeconds,
          abort,
        );
        if (replay) return replay;
      }
      throw err;
    }
    // An empty pool below maxTotal starts provisioning for its waiters at once.
    this.kicker.kick();
    const deadline = Date.now() + request.waitSeconds * 1000;
    const stop = abort ? AbortSignal.any([abort, this.shutdown.signal]) : this.shutdown.signal;
    let outcome = await this.awaitRequest(pending, deadline, stop);
    if (!outcome || outcome.state === 'pending') outcome = await this.queue.withdraw(pending.id);
    switch (outcome.state) {
      case 'fulfilled': {
        const lease = (await this.store.view(this.db, outcome.lease_id!))!;
        if (abort?.aborted) {
          // Nobody will ever learn this lease's id: give its containers back now.
          await this.end([lease.id], 'released', 'client_gone');
        }
        return { lease, created: true };
      }
      case 'rejected':
        if (outcome.rejection === 'quota')
          throw await this.quotaError(request.tenantId!, request.count);
        if (outcome.rejection === 'pool_deleted') throw NotFoundError.of('pool', pool.name);
        if (outcome.rejection === 'duplicate' && request.idempotencyKey) {
          const replay = await this.replay(
            request.tenantKey,
            request.idempotencyKey,
            request.requestHash!,
            0,
          );
          if (replay) return replay;
        }
        throw new ConflictError('the lease request was rejected');
      default:
        if (this.shutdown.signal.aborted)
          throw new UnavailableError('the service is shutting down');
        throw await this.exhausted(pool.id, pool.name, request.count);
    }
  }

  /**
   * Wait for a request to leave 'pending': woken through Coordination, with a poll (and a
   * dispatch of its own) as the fallback when a wake-up is lost or Redis is down.
   */
  private async awaitRequest(
    pending: PendingRequest,
    deadline: number,
    abort?: AbortSignal,
  ): Promise<PendingRequest | null> {
    let wake: () => void = () => undefined;
    const unsubscribe = await this.coordination.subscribe(channels.leaseRequest(pending.id), () =>
      wake(),
    );
    try {
      // Something may be ready already (a container freed between our attempt and the insert).
      await this.queue.dispatch(pending.pool_id);
      for (;;) {
        const current = await this.queue.byId(this.db, pending.id);
        if (!current || current.state !== 'pending') return current;
        const remaining = deadline - Date.now();
        if (remaining <= 0 || abort?.aborted) return current;
        const woken = await new Promise<boolean>((resolve) => {
          const done = (value: boolean): void => {
            clearTimeout(timer);
            abort?.removeEventListener('abort', onAbort);
            resolve(value);
          };
          const onAbort = (): void => done(true);
          const timer = setTimeout(
            () => done(false),
            Math.min(remaining, this.config.get('WARMPOOL_WAIT_POLL_MS')),
          );
          abort?.addEventListener('abort', onAbort, { once: true });
          wake = () => done(true);
        });
        if (!woken) await this.queue.dispatch(pending.pool_id);
      }
    } finally {
      await unsubscribe();
    }
  }

  private async checkQuotaRoom(tenantId: string | null, count: number): Promise<void> {
    if (!tenantId) return;
    const quota = await this.store.quotaOf(this.db, tenantId);
    if (quota && quota.leased + count > quota.max) throw await this.quotaError(tenantId, count);
  }

  private async quotaError(tenantId: string, count: number): Promise<QuotaExceededError> {
    const quota = await this.store.quotaOf(this.db, tenantId);
    return new QuotaExceededError(
      `${count} more container(s) would exceed the tenant's maxConcurrentContainers (${quota?.max ?? 0}); ${quota?.leased ?? 0} leased now`,
      { leased: quota?.leased ?? 0, maxConcurrentContainers: quota?.max ?? 0, requested: count },
    );
  }

  /** 503 with a Retry-After that says whether capacity is on its way or the pool is full. */
  private async exhausted(
    poolId: string,
    poolName: string | null,
    count: number,
  ): Promise<PoolExhaustedError> {
    const live = await queryOne<{ live: number; max_total: number; coming: number }>(
      this.db,
      `SELECT count(*) FILTER (WHERE c.state <> 'destroyed')::int AS live,
              count(*) FILTER (WHERE c.state IN ('provisioning', 'recycling'))::int AS coming,
              max(p.max_total) AS max_total
         FROM pools p LEFT JOIN containers c ON c.pool_id = p.id AND c.state <> 'destroyed'
        WHERE p.id = $1`,
      [poolId],
    );
    const full = live !== null && live.live >= live.max_total && live.coming === 0;
    return new PoolExhaustedError(
      `no ${count === 1 ? 'container' : `${count} containers`} became ready in time`,
      full ? 10 : 1,
      { ...(poolName ? { pool: poolName } : {}), requested: count },
    );
  }

  private observe(pool: string, outcome: 'leased', started: bigint): void {
    this.metrics.countLease(pool, outcome);
    this.metrics.leaseWait.observe({ pool }, Number(process.hrtime.bigint() - started) / 1e9);
  }

  private async viewOfNew(
    row: LeaseRow,
    taken: ContainerRow[],
    poolName: string,
    principal: Principal,
  ): Promise<LeaseView> {
    if (taken.some((c) => !this.hostNames.has(c.host_id))) await this.loadHostNames();
    const byId = new Map(taken.map((c) => [c.id, c]));
    return toLeaseView(
      row,
      poolName,
      principal.kind === 'tenant' ? principal.tenantName : null,
      (id) => {
        const c = byId.get(id);
        return c ? { ...c, host: this.hostName(c.host_id) } : null;
      },
    );
  }

  /** Host names never change for an id, so the hot path looks them up once. */
  private hostName(hostId: string): string {
    return this.hostNames.get(hostId) ?? hostId;
  }

  private async loadHostNames(): Promise<void> {
    const rows = await this.db.query(`SELECT id, name FROM hosts`);
    for (const r of rows as { id: string; name: string }[]) this.hostNames.set(r.id, r.name);
  }
}
