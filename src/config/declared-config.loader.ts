import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { HostsService } from '../hosts/hosts.service';
import { PoolsService } from '../pools/pools.service';
import { TemplatesService } from '../templates/templates.service';
import { TenantsService } from '../tenants/tenants.service';
import { AppConfig } from './app-config';
import { readDeclaredConfig } from './declared-config';

/**
 * Boot: create what config/warmpool.yaml declares and the database lacks. What exists
 * keeps its runtime tuning: the admin API is how a running system changes.
 */
@Injectable()
export class DeclaredConfigLoader implements OnModuleInit {
  private readonly logger = new Logger('config');

  constructor(
    private readonly config: AppConfig,
    private readonly hosts: HostsService,
    private readonly templates: TemplatesService,
    private readonly pools: PoolsService,
    private readonly tenants: TenantsService,
  ) {}

  async onModuleInit(): Promise<void> {
    const file = this.config.get('WARMPOOL_CONFIG');
    const declared = readDeclaredConfig(file);
    const created: string[] = [];
    for (const [name, body] of Object.entries(declared.hosts)) {
      if (await this.exists(() => this.hosts.require(name))) continue;
      await this.hosts.put(name, body);
      created.push(`host ${name}`);
    }
    for (const [name, body] of Object.entries(declared.templates)) {
      if (await this.exists(() => this.templates.require(name))) continue;
      await this.templates.put(name, body);
      created.push(`template ${name}`);
    }
    for (const [name, body] of Object.entries(declared.pools)) {
      if (await this.pools.live(name)) continue;
      await this.pools.put(name, body);
      created.push(`pool ${name}`);
    }
    for (const [name, body] of Object.entries(declared.tenants)) {
      if (await this.tenants.exists(name)) continue;
      await this.tenants.createWithHash(name, body.maxConcurrentContainers, body.tokenSha256);
      created.push(`tenant ${name}`);
    }
    if (created.length) this.logger.log(`created from ${file}: ${created.join(', ')}`);
  }

  private async exists(find: () => Promise<unknown>): Promise<boolean> {
    try {
      await find();
      return true;
    } catch {
      return false;
    }
  }
}
