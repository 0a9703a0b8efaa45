import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { timestamp } from '../database/columns';

/** The audit log: every container state change, and lease/pool/host happenings. */
@Entity('events')
@Index('ix_events_pool', ['poolId', 'id'])
@Index('ix_events_container', ['containerId', 'id'])
@Index('ix_events_at', ['at'])
export class EventEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  @Column(timestamp({ default: () => 'now()' }))
  at: Date;

  @Column('text')
  type: string;

  @Column('uuid', { nullable: true })
  poolId: string | null;

  @Column('uuid', { nullable: true })
  containerId: string | null;

  @Column('uuid', { nullable: true })
  leaseId: string | null;

  @Column('uuid', { nullable: true })
  hostId: string | null;

  @Column('text', { nullable: true })
  fromState: string | null;

  @Column('text', { nullable: true })
  toState: string | null;

  @Column('jsonb', { default: () => `'{}'` })
  details: Record<string, unknown>;
}
