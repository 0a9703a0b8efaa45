import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { timestamp } from '../database/columns';

/** Idempotency-Key → the lease it created, per tenant, for 24 hours. */
@Entity('idempotency_records')
@Index('ix_idempotency_records_expires', ['expiresAt'])
export class IdempotencyRecordEntity {
  @PrimaryColumn('text')
  tenantKey: string;

  @PrimaryColumn('text')
  key: string;

  @Column('text')
  requestHash: string;

  @Column('uuid')
  leaseId: string;

  @Column(timestamp())
  createdAt: Date;

  @Column(timestamp())
  expiresAt: Date;
}
