import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { newTenantToken, sha256Hex } from '../common/auth/tokens';
import { ConflictError, NotFoundError } from '../common/errors';
import { isUniqueViolation } from '../database/sql';
import { EventsService } from '../events/events.service';
import { TenantView, TenantWithTokenView } from './dto/tenant.dto';
import { TenantEntity } from './tenant.entity';

@Injectable()
export class TenantsService {
  constructor(
    private readonly db: DataSource,
    private readonly events: EventsService,
  ) {}

  private get repo() {
    return this.db.getRepository(TenantEntity);
  }

  async create(name: string, maxConcurrentContainers: number): Promise<TenantWithTokenView> {
    const token = newTenantToken();
    const tenant = await this.insert(name, maxConcurrentContainers, sha256Hex(token));
    return { ...this.toView(tenant), token };
  }

  /** From the config file: the token is given as its hash, never in clear. */
  async createWithHash(
    name: string,
    maxConcurrentContainers: number,
    tokenSha256: string,
  ): Promise<void> {
    await this.insert(name, maxConcurrentContainers, tokenSha256.toLowerCase());
  }

  async list(): Promise<TenantView[]> {
    return (await this.repo.find({ order: { name: 'ASC' } })).map((t) => this.toView(t));
  }

  async get(name: string): Promise<TenantView> {
    return this.toView(await this.require(name));
  }

  async exists(name: string): Promise<boolean> {
    return (await this.repo.count({ where: { name } })) > 0;
  }

  async patch(name: string, maxConcurrentContainers: number): Promise<TenantView> {
    const tenant = await this.require(name);
    tenant.maxConcurrentContainers = maxConcurrentContainers;
    await this.repo.save(tenant);
    await this.events.record(this.db, [
      { type: 'tenant.updated', details: { tenant: name, maxConcurrentContainers } },
    ]);
    return this.toView(tenant);
  }

  async rotateToken(name: string): Promise<{ name: string; token: string }> {
    const tenant = await this.require(name);
    const token = newTenantToken();
    await this.repo.update({ id: tenant.id }, { tokenSha256: sha256Hex(token) });
    await this.events.record(this.db, [
      { type: 'tenant.token_rotated', details: { tenant: name } },
    ]);
    return { name, token };
  }

  async require(name: string): Promise<TenantEntity> {
    const tenant = await this.repo.findOne({ where: { name } });
    if (!tenant) throw NotFoundError.of('tenant', name);
    return tenant;
  }

  private async insert(name: string, max: number, tokenSha256: string): Promise<TenantEntity> {
    const tenant = this.repo.create({
      id: randomUUID(),
      name,
      maxConcurrentContainers: max,
      tokenSha256,
      leasedContainers: 0,
    });
    try {
      await this.repo.insert(tenant);
    } catch (err) {
      if (isUniqueViolation(err, 'ux_tenants_name')) {
        throw new ConflictError(`tenant ${name} already exists`);
      }
      if (isUniqueViolation(err)) throw new ConflictError('that token is already in use');
      throw err;
    }
    await this.events.record(this.db, [{ type: 'tenant.created', details: { tenant: name } }]);
    return (await this.repo.findOne({ where: { id: tenant.id } }))!;
  }

  private toView(t: TenantEntity): TenantView {
    return {
      id: t.id,
      name: t.name,
      maxConcurrentContainers: t.maxConcurrentContainers,
      leasedContainers: t.leasedContainers,
      createdAt: t.createdAt.toISOString(),
      updatedAt: t.updatedAt.toISOString(),
    };
  }
}
