import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ContainerStore } from '../containers/container.store';
import { channels, Coordination } from '../coordination/coordination';
import { Queryable, queryOne, queryRows } from '../database/sql';
import type { LeaseRequestState } from './lease-request.entity';
import { LeaseStore } from './lease.store';

export interface PendingRequest {
  id: string;
  pool_id: string;
  tenant_id: string | null;
  tenant_key: string;
  count: number;
  ttl_seconds: number;
  priority: number;
  labels: Record<string, string>;
  idempotency_key: string | null;
  request_hash: string | null;
  state: LeaseRequestState;
  lease_id: string | null;
  rejection: string | null;
  created_at: Date;
  deadline: Date;
}

export interface NewRequest {
  poolId: string;
  tenantId: string | null;
  tenantKey: string;
  count: number;
  ttlSeconds: number;
  priority: number;
  labels: Record<string, string>;
  idempotencyKey: string | null;
  requestHash: string | null;
  waitSeconds: number;
}

/** Not enough ready containers for the head of the queue: undo the attempt and stop. */
class NotServed extends Error {}
/** A twin request with the same Idempotency-Key already has a lease: undo, and point to it. */
class DuplicateKey extends Error {}

/**
 * The per-pool waiting queue. Requests wait as rows (so every replica sees them); whoever
 * makes a container ready calls dispatch(), which serves them in priority-then-arrival
 * order inside one transaction and wakes the waiting handlers.
 */
@Injectable()
export class LeaseQueue {
  constructor(
    private readonly db: DataSource,
    private readonly containers: ContainerStore,
    private readonly leases: LeaseStore,
    private readonly coordination: Coordination,
  ) {}

  async enqueue(request: NewRequest): Promise<PendingRequest> {
    const row = await queryOne<PendingRequest>(
      this.db,
      `INSERT INTO lease_requests (id, pool_id, tenant_id, tenant_key, count, ttl_seconds, priority,
                                   labels, idempotency_key, request_hash, state, created_at, deadline)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, 'pending', now(),
               now() + make_interval(secs => $11))
       RETURNING *`,
      [
        randomUUID(),
        request.poolId,
        request.tenantId,
        request.tenantKey,
        request.count,
        request.ttlSeconds,
        request.priority,
        JSON.stringify(request.labels),
        request.idempotencyKey,
        request.requestHash,
        request.waitSeconds,
      ],
    );
    return row!;
  }

  byId(db: Queryable, id: string): Promise<PendingRequest | null> {
    return queryOne<PendingRequest>(db, `SELECT * FROM lease_requests WHERE id = $1`, [id]);
  }

  pendingWithKey(tenantKey: string, key: string): Promise<PendingRequest | null> {
    return queryOne<PendingRequest>(
      this.db,
      `SELECT * FROM lease_requests
        WHERE tenant_key = $1 AND idempotency_key = $2 AND state = 'pending'`,
      [tenantKey, key],
    );
  }

  /**
   * Withdraw a request that timed out. If a dispatcher got to it first, the row is no longer
   * pending and the caller reads the lease it was given: nothing is lost in between.
   */
  async withdraw(id: string): Promise<PendingRequest> {
    await this.db.query(
      `UPDATE lease_requests SET state = 'withdrawn' WHERE id = $1 AND state = 'pending'`,
      [id],
    );
    return (await this.byId(this.db, id))!;
  }

  /** Pools that have requests waiting (for the reconciler's demand and its dispatch step). */
  async waitingByPool(): Promise<Map<string, number>> {
    const rows = await queryRows<{ pool_id: string; n: number }>(
      this.db,
      `SELECT pool_id, sum(count)::int AS n FROM lease_requests
        WHERE state = 'pending' AND deadline > now() GROUP BY pool_id`,
    );
    return new Map(rows.map((r) => [r.pool_id, r.n]));
  }

  /**
   * Serve waiting requests of a pool from its ready containers. Dispatchers of one pool are
   * serialised by a transaction-scoped advisory lock, so none of them can miss a container
   * another has just made ready. The head of the queue blocks the rest (strict FIFO per
   * priority): a count-3 request is not starved by count-1 requests behind it.
   */
  async dispatch(poolId: string): Promise<number> {
    const woken: string[] = [];
    await this.db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('warmpool:dispatch:' || $1::text))`, [
        poolId,
      ]);
      const pending = await queryRows<PendingRequest>(
        tx,
        `SELECT * FROM lease_requests
          WHERE pool_id = $1 AND state = 'pending' AND deadline > now()
          ORDER BY priority DESC, created_at, id
          FOR UPDATE SKIP LOCKED`,
        [poolId],
      );
      for (const request of pending) {
        await tx.query('SAVEPOINT serve_request');
        try {
          await this.serve(tx, request);
          await tx.query('RELEASE SAVEPOINT serve_request');
          woken.push(request.id);
        } catch (err) {
          await tx.query('ROLLBACK TO SAVEPOINT serve_request');
          if (err instanceof NotServed) break;
          if (!(err instanceof DuplicateKey)) throw err;
          await this.reject(tx, request.id, 'duplicate');
          woken.push(request.id);
        }
      }
    });
    for (const id of woken) await this.coordination.publish(channels.leaseRequest(id), 'served');
    return woken.length;
  }

  private async reject(tx: Queryable, id: string, rejection: string): Promise<void> {
    await tx.query(`UPDATE lease_requests SET state = 'rejected', rejection = $2 WHERE id = $1`, [
      id,
      rejection,
    ]);
  }

  private async serve(tx: Queryable, request: PendingRequest): Promise<void> {
    if (
      request.tenant_id &&
      !(await this.leases.reserveQuota(tx, request.tenant_id, request.count))
    ) {
      await this.reject(tx, request.id, 'quota');
      return;
    }
    const leaseId = randomUUID();
    const taken = await this.containers.leaseReady(tx, request.pool_id, request.count, leaseId);
    if (taken.length < request.count) throw new NotServed();
    await this.leases.insert(tx, {
      id: leaseId,
      poolId: request.pool_id,
      tenantId: request.tenant_id,
      containerIds: taken.map((c) => c.id),
      labels: request.labels,
      ttlSeconds: request.ttl_seconds,
      arrivedAt: request.created_at,
    });
    if (
      request.idempotency_key &&
      !(await this.leases.recordIdempotency(
        tx,
        request.tenant_key,
        request.idempotency_key,
        request.request_hash ?? '',
        leaseId,
      ))
    ) {
      throw new DuplicateKey();
    }
    await tx.query(`UPDATE lease_requests SET state = 'fulfilled', lease_id = $2 WHERE id = $1`, [
      request.id,
      leaseId,
    ]);
  }
}
