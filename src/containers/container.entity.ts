import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';
import { nullableTimestamp, timestamp } from '../database/columns';
import type { ContainerState } from './container-state';

@Entity('containers')
@Index('ux_containers_name', ['name'], { unique: true })
// The lease path: ready containers of a pool, oldest first.
@Index('ix_containers_pool_state_ready', ['poolId', 'state', 'readyAt'])
@Index('ix_containers_host_state', ['hostId', 'state'])
@Index('ix_containers_lease', ['leaseId'])
// No address is ever given to two live containers of a host, also across restarts.
@Index('ux_containers_host_ip_live', ['hostId', 'ip'], {
  unique: true,
  where: `state <> 'destroyed' AND ip IS NOT NULL`,
})
export class ContainerEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column('text')
  name: string;

  @Column('uuid')
  poolId: string;

  @Column('uuid')
  hostId: string;

  @Column('uuid')
  templateId: string;

  @Column('int')
  templateVersion: number;

  @Column('text')
  state: ContainerState;

  @Column('inet', { nullable: true })
  ip: string | null;

  @Column('uuid', { nullable: true })
  leaseId: string | null;

  @Column('text', { nullable: true })
  error: string | null;

  /** When the current state was entered (stuck detection). */
  @Column(timestamp())
  stateChangedAt: Date;

  @CreateDateColumn(timestamp())
  createdAt: Date;

  @Column(nullableTimestamp)
  readyAt: Date | null;

  @Column(nullableTimestamp)
  leasedAt: Date | null;

  @Column(nullableTimestamp)
  recyclingAt: Date | null;

  @Column(nullableTimestamp)
  retiringAt: Date | null;

  @Column(nullableTimestamp)
  failedAt: Date | null;

  @Column(nullableTimestamp)
  destroyedAt: Date | null;
}
