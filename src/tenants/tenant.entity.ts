import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { timestamp } from '../database/columns';

@Entity('tenants')
@Index('ux_tenants_name', ['name'], { unique: true })
@Index('ux_tenants_token_sha256', ['tokenSha256'], { unique: true })
export class TenantEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column('text')
  name: string;

  /** Hex SHA-256 of the token; the token itself is never stored. */
  @Column('text')
  tokenSha256: string;

  @Column('int')
  maxConcurrentContainers: number;

  /** Containers currently leased by this tenant: the quota counter, kept in the lease transactions. */
  @Column('int', { default: 0 })
  leasedContainers: number;

  @CreateDateColumn(timestamp())
  createdAt: Date;

  @UpdateDateColumn(timestamp())
  updatedAt: Date;
}
