import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { nullableTimestamp, timestamp } from '../database/columns';

export type TemplateDriver = 'lxc' | 'openvz' | 'sim' | 'auto';
export type TemplateState = 'building' | 'ready' | 'failed';

@Entity('templates')
@Index('ux_templates_name', ['name'], { unique: true })
export class TemplateEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column('text')
  name: string;

  /** 'auto' builds on every active host with that host's own driver. */
  @Column('text')
  driver: TemplateDriver;

  @Column('jsonb', { default: () => `'{}'` })
  source: Record<string, unknown>;

  @Column('jsonb', { default: () => `'[]'` })
  setup: string[][];

  @Column('int', { default: 1 })
  version: number;

  @Column('text', { default: 'building' })
  state: TemplateState;

  @Column(nullableTimestamp)
  builtAt: Date | null;

  @Column('text', { nullable: true })
  error: string | null;

  @CreateDateColumn(timestamp())
  createdAt: Date;

  @UpdateDateColumn(timestamp())
  updatedAt: Date;
}
