import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { nullableTimestamp, timestamp } from '../database/columns';

export type HostDriver = 'lxc' | 'openvz' | 'sim' | 'auto';
export type HostState = 'active' | 'draining' | 'disabled';
export type HostHealth = 'up' | 'down';

@Entity('hosts')
@Index('ux_hosts_name', ['name'], { unique: true })
export class HostEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column('text')
  name: string;

  @Column('text')
  driver: HostDriver;

  /** What 'auto' resolved to on this host (null until probed). */
  @Column('text', { nullable: true })
  resolvedDriver: 'lxc' | 'openvz' | 'sim' | null;

  @Column('text', { default: 'local' })
  address: string;

  @Column('int')
  maxContainers: number;

  @Column('int')
  maxConcurrentProvisions: number;

  @Column('cidr')
  subnet: string;

  @Column('jsonb', { default: () => `'{}'` })
  options: Record<string, unknown>;

  @Column('text', { default: 'active' })
  state: HostState;

  @Column('text', { default: 'up' })
  health: HostHealth;

  @Column('text', { nullable: true })
  lastError: string | null;

  @Column('int', { default: 0 })
  consecutiveFailures: number;

  /** Circuit breaker: no new containers here before this instant. */
  @Column(nullableTimestamp)
  downUntil: Date | null;

  @CreateDateColumn(timestamp())
  createdAt: Date;

  @UpdateDateColumn(timestamp())
  updatedAt: Date;
}
