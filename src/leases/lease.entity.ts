import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { nullableTimestamp, timestamp } from '../database/columns';

export type LeaseState = 'active' | 'released' | 'expired' | 'revoked';

@Entity('leases')
@Index('ix_leases_tenant_created', ['tenantId', 'createdAt', 'id'])
@Index('ix_leases_created', ['createdAt', 'id'])
@Index('ix_leases_state_expires', ['state', 'expiresAt'])
export class LeaseEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid')
  poolId: string;

  /** null for leases an admin token made. */
  @Column('uuid', { nullable: true })
  tenantId: string | null;

  @Column('text')
  state: LeaseState;

  /** The containers it was given, kept after they are recycled. */
  @Column('uuid', { array: true })
  containerIds: string[];

  @Column('jsonb', { default: () => `'{}'` })
  labels: Record<string, string>;

  @Column('int', { default: 0 })
  waitedMs: number;

  @Column(timestamp())
  createdAt: Date;

  @Column(timestamp())
  expiresAt: Date;

  @Column(nullableTimestamp)
  releasedAt: Date | null;

  @Column(nullableTimestamp)
  endedAt: Date | null;

  @Column('text', { nullable: true })
  endReason: string | null;
}
