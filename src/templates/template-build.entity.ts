import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { nullableTimestamp, timestamp } from '../database/columns';

export type TemplateBuildState = 'building' | 'ready' | 'failed' | 'removing' | 'removed';

/**
 * One golden image: a template version built on one host. A new version builds beside
 * the old one; the old one is removed only when no container still uses it.
 */
@Entity('template_builds')
@Index('ux_template_builds_version_host', ['templateId', 'version', 'hostId'], { unique: true })
export class TemplateBuildEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid')
  templateId: string;

  @Column('int')
  version: number;

  @Column('uuid')
  hostId: string;

  @Column('text', { default: 'building' })
  state: TemplateBuildState;

  /** The golden's name on the host, as the driver returned it. */
  @Column('text', { nullable: true })
  ref: string | null;

  @Column('text', { nullable: true })
  error: string | null;

  @Column(nullableTimestamp)
  builtAt: Date | null;

  @CreateDateColumn(timestamp())
  createdAt: Date;

  @UpdateDateColumn(timestamp())
  updatedAt: Date;
}
