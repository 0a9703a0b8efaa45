import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { nullableTimestamp, timestamp } from '../database/columns';
import type { ResourceLimits } from '../drivers/container-driver';

export type RecyclePolicy = 'destroy' | 'reset';
export type PoolState = 'active' | 'draining';

export interface PoolSchedule {
  cron: string;
  durationMinutes: number;
  timezone?: string;
  minReady: number;
}

export interface PredictiveSettings {
  enabled: boolean;
  targetWaitProbability: number;
  windowMinutes: number;
  seasonalDays: number;
}

@Entity('pools')
// A deleted pool's name may be reused while its old containers still drain.
@Index('ux_pools_name_live', ['name'], { unique: true, where: 'deleted_at IS NULL' })
export class PoolEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column('text')
  name: string;

  @Column('uuid')
  templateId: string;

  @Column('jsonb')
  resources: ResourceLimits;

  @Column('int')
  minReady: number;

  @Column('int')
  maxReady: number;

  @Column('int')
  maxTotal: number;

  @Column('int')
  defaultLeaseSeconds: number;

  @Column('int')
  maxLeaseSeconds: number;

  @Column('int')
  maxIdleSeconds: number;

  @Column('int')
  scaleDownDelaySeconds: number;

  @Column('text')
  recycle: RecyclePolicy;

  @Column('jsonb', { default: () => `'[]'` })
  schedules: PoolSchedule[];

  @Column('jsonb', { nullable: true })
  predictive: PredictiveSettings | null;

  @Column('text', { default: 'active' })
  state: PoolState;

  /** Since when ready has exceeded target without pause (scale-down hysteresis). */
  @Column(nullableTimestamp)
  excessSince: Date | null;

  /** The target of the last reconcile pass and why, for the status view and metrics. */
  @Column('int', { default: 0 })
  lastTarget: number;

  @Column('text', { default: 'minReady' })
  lastTargetReason: string;

  @Column(nullableTimestamp)
  deletedAt: Date | null;

  @CreateDateColumn(timestamp())
  createdAt: Date;

  @UpdateDateColumn(timestamp())
  updatedAt: Date;
}
