import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { timestamp } from '../database/columns';

export type LeaseRequestState = 'pending' | 'fulfilled' | 'withdrawn' | 'rejected';

/** A lease request waiting for capacity: served by priority, then arrival. */
@Entity('lease_requests')
@Index('ix_lease_requests_queue', ['poolId', 'state', 'priority', 'createdAt'])
@Index('ux_lease_requests_pending_key', ['tenantKey', 'idempotencyKey'], {
  unique: true,
  where: `state = 'pending' AND idempotency_key IS NOT NULL`,
})
export class LeaseRequestEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid')
  poolId: string;

  @Column('uuid', { nullable: true })
  tenantId: string | null;

  /** Tenant id, or 'admin': the idempotency scope. */
  @Column('text')
  tenantKey: string;

  @Column('int')
  count: number;

  @Column('int')
  ttlSeconds: number;

  @Column('int')
  priority: number;

  @Column('jsonb', { default: () => `'{}'` })
  labels: Record<string, string>;

  @Column('text', { nullable: true })
  idempotencyKey: string | null;

  @Column('text', { nullable: true })
  requestHash: string | null;

  @Column('text')
  state: LeaseRequestState;

  @Column('uuid', { nullable: true })
  leaseId: string | null;

  /** Why a request was rejected (quota), for the waiting handler. */
  @Column('text', { nullable: true })
  rejection: string | null;

  @Column(timestamp())
  createdAt: Date;

  @Column(timestamp())
  deadline: Date;
}
