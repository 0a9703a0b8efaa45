import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, IsNull, Not } from 'typeorm';
import { ConflictError, NotFoundError, ValidationFailedError } from '../common/errors';
import { queryOne, queryRows } from '../database/sql';
import { ContainerDriver, DriverKind, HostTarget } from '../drivers/container-driver';
import { DriverRegistry } from '../drivers/driver-registry';
import { EventsService } from '../events/events.service';
import { HostEntity, HostHealth, HostState } from './host.entity';
import { hostConfigProblems } from './host-options';
import { PatchHostDto, PutHostDto, HostView } from './dto/host.dto';
import { containerAddressCount, defaultSubnet, gatewayOf, parseSubnet } from './subnet';

/** Consecutive driver failures before a host is taken out of placement (circuit breaker). */
const FAILURES_BEFORE_DOWN = 3;
const DOWN_BASE_MS = 30_000;
const DOWN_MAX_MS = 300_000;

type HostCounts = HostView['counts'];

@Injectable()
export class HostsService {
  private readonly logger = new Logger('hosts');

  constructor(
    private readonly db: DataSource,
    private readonly drivers: DriverRegistry,
    private readonly events: EventsService,
  ) {}

  private get repo() {
    return this.db.getRepository(HostEntity);
  }

  async put(name: string, dto: PutHostDto): Promise<{ host: HostView; created: boolean }> {
    const existing = await this.repo.findOne({ where: { name } });
    const options = dto.options ?? {};
    const address = dto.address ?? 'local';
    this.check(dto.driver, address, options, dto.subnet);
    const subnet = dto.subnet
      ? parseSubnet(dto.subnet).cidr
      : (existing?.subnet ?? (await this.freeSubnet(name)));
    if (existing) {
      await this.assertSubnetChangeAllowed(existing, subnet);
      Object.assign(existing, {
        driver: dto.driver,
        address,
        options,
        subnet,
        maxContainers: dto.maxContainers ?? 200,
        maxConcurrentProvisions: dto.maxConcurrentProvisions ?? 4,
      });
      existing.resolvedDriver = await this.resolveDriver(existing);
      await this.repo.save(existing);
      await this.events.record(this.db, [{ type: 'host.updated', hostId: existing.id }]);
      return { host: await this.view(existing), created: false };
    }
    const host = this.repo.create({
      id: randomUUID(),
      name,
      driver: dto.driver,
      address,
      options,
      subnet,
      maxContainers: dto.maxContainers ?? 200,
      maxConcurrentProvisions: dto.maxConcurrentProvisions ?? 4,
      state: 'active',
      health: 'up',
    });
    host.resolvedDriver = await this.resolveDriver(host);
    await this.repo.save(host);
    await this.events.record(this.db, [
      { type: 'host.created', hostId: host.id, details: { driver: host.resolvedDriver } },
    ]);
    return { host: await this.view(host), created: true };
  }

  async patch(name: string, dto: PatchHostDto): Promise<HostView> {
    const host = await this.require(name);
    const driver = dto.driver ?? host.driver;
    const address = dto.address ?? host.address;
    const options = dto.options ?? host.options;
    this.check(driver, address, options, dto.subnet);
    const subnet = dto.subnet ? parseSubnet(dto.subnet).cidr : host.subnet;
    await this.assertSubnetChangeAllowed(host, subnet);
    const reprobe = driver !== host.driver || address !== host.address;
    Object.assign(host, {
      driver,
      address,
      options,
      subnet,
      maxContainers: dto.maxContainers ?? host.maxContainers,
      maxConcurrentProvisions: dto.maxConcurrentProvisions ?? host.maxConcurrentProvisions,
      state: dto.state ?? host.state,
    });
    if (dto.state === 'active') {
      // An operator re-enabling a host also closes its circuit breaker.
      Object.assign(host, { health: 'up', consecutiveFailures: 0, downUntil: null });
    }
    if (reprobe) host.resolvedDriver = await this.resolveDriver(host);
    await this.repo.save(host);
    await this.events.record(this.db, [
      { type: 'host.updated', hostId: host.id, details: { state: host.state } },
    ]);
    return this.view(host);
  }

  async remove(name: string): Promise<void> {
    const host = await this.require(name);
    const counts = await this.counts([host.id]);
    if ((counts.get(host.id)?.live ?? 0) > 0) {
      throw new ConflictError(`host ${name} still holds containers; drain it first`);
    }
    await this.db.transaction(async (tx) => {
      await tx.query(`DELETE FROM template_builds WHERE host_id = $1`, [host.id]);
      await tx.getRepository(HostEntity).delete({ id: host.id });
      await this.events.record(tx, [{ type: 'host.deleted', hostId: host.id, details: { name } }]);
    });
  }

  async list(): Promise<HostView[]> {
    const hosts = await this.repo.find({ order: { name: 'ASC' } });
    const counts = await this.counts(hosts.map((h) => h.id));
    return hosts.map((h) => this.toView(h, counts.get(h.id)));
  }

  async get(name: string): Promise<HostView> {
    return this.view(await this.require(name));
  }

  async require(name: string): Promise<HostEntity> {
    const host = await this.repo.findOne({ where: { name } });
    if (!host) throw NotFoundError.of('host', name);
    return host;
  }

  byId(id: string): Promise<HostEntity | null> {
    return this.repo.findOne({ where: { id } });
  }

  all(): Promise<HostEntity[]> {
    return this.repo.find({ where: { resolvedDriver: Not(IsNull()) }, order: { name: 'ASC' } });
  }

  target(host: HostEntity): HostTarget {
    return this.drivers.target(host);
  }

  driverKind(host: HostEntity): DriverKind {
    return host.resolvedDriver ?? (host.driver === 'auto' ? 'sim' : host.driver);
  }

  driverOf(host: HostEntity): ContainerDriver {
    return this.drivers.get(this.driverKind(host));
  }

  /** A driver call worked: the host is healthy again. */
  async recordSuccess(host: HostEntity): Promise<void> {
    if (host.consecutiveFailures === 0 && host.health === 'up') return;
    await this.repo.update(
      { id: host.id },
      { consecutiveFailures: 0, health: 'up', downUntil: null },
    );
    host.consecutiveFailures = 0;
    host.health = 'up';
    host.downUntil = null;
  }

  /**
   * A driver call failed; repeated failures open the circuit breaker for a growing while.
   * One statement counts and decides, so concurrent failures on a host are all counted.
   */
  async recordFailure(host: HostEntity, op: string, message: string): Promise<void> {
    const lastError = `${op}: ${message}`.slice(0, 2000);
    const row = await queryOne<{
      failures: number;
      health: HostHealth;
      down_until: Date | null;
      opened: boolean;
    }>(
      this.db,
      `WITH before AS (SELECT health FROM hosts WHERE id = $1)
       UPDATE hosts h
          SET consecutive_failures = h.consecutive_failures + 1,
              last_error = $2,
              health = CASE WHEN h.consecutive_failures + 1 >= $3 THEN 'down' ELSE h.health END,
              down_until = CASE WHEN h.consecutive_failures + 1 >= $3
                                THEN now() + make_interval(secs => least($5::float8,
                                       $4::float8 * power(2, h.consecutive_failures + 1 - $3)))
                                ELSE h.down_until END,
              updated_at = now()
         FROM before
        WHERE h.id = $1
       RETURNING h.consecutive_failures AS failures, h.health, h.down_until,
                 (before.health = 'up' AND h.health = 'down') AS opened`,
      [host.id, lastError, FAILURES_BEFORE_DOWN, DOWN_BASE_MS / 1000, DOWN_MAX_MS / 1000],
    );
    if (!row) return;
    Object.assign(host, {
      consecutiveFailures: row.failures,
      lastError,
      health: row.health,
      downUntil: row.down_until ? new Date(row.down_until) : null,
    });
    if (row.opened) {
      this.logger.warn(
        `host ${host.name} marked down after ${row.failures} failures: ${lastError}`,
      );
      await this.events.record(this.db, [
        { type: 'host.down', hostId: host.id, details: { failures: row.failures, lastError } },
      ]);
    }
  }

  /** Live container counts per host and state. */
  async counts(hostIds: string[]): Promise<Map<string, HostCounts>> {
    const rows = await queryRows<{ host_id: string; state: string; n: number }>(
      this.db,
      `SELECT host_id, state, count(*)::int AS n FROM containers
        WHERE host_id = ANY($1::uuid[]) AND state <> 'destroyed'
        GROUP BY host_id, state`,
      [hostIds],
    );
    const result = new Map<string, HostCounts>();
    for (const id of hostIds) {
      result.set(id, {
        live: 0,
        provisioning: 0,
        ready: 0,
        leased: 0,
        recycling: 0,
        retiring: 0,
        failed: 0,
      });
    }
    for (const row of rows) {
      const counts = result.get(row.host_id)!;
      counts.live += row.n;
      if (row.state in counts) counts[row.state as keyof HostCounts] = row.n;
    }
    return result;
  }

  async setState(host: HostEntity, state: HostState): Promise<void> {
    await this.repo.update({ id: host.id }, { state });
  }

  private async view(host: HostEntity): Promise<HostView> {
    return this.toView(host, (await this.counts([host.id])).get(host.id));
  }

  private toView(host: HostEntity, counts?: HostCounts): HostView {
    return {
      id: host.id,
      name: host.name,
      driver: host.driver,
      resolvedDriver: host.resolvedDriver,
      address: host.address,
      maxContainers: host.maxContainers,
      maxConcurrentProvisions: host.maxConcurrentProvisions,
      subnet: host.subnet,
      gateway: gatewayOf(parseSubnet(host.subnet)),
      options: host.options,
      state: host.state,
      health: host.health,
      lastError: host.lastError,
      counts: counts ?? {
        live: 0,
        provisioning: 0,
        ready: 0,
        leased: 0,
        recycling: 0,
        retiring: 0,
        failed: 0,
      },
      createdAt: host.createdAt.toISOString(),
      updatedAt: host.updatedAt.toISOString(),
    };
  }

  private check(
    driver: PutHostDto['driver'],
    address: string,
    options: Record<string, unknown>,
    subnet?: string,
  ): void {
    const problems = hostConfigProblems(driver, address, options);
    if (subnet) {
      try {
        const parsed = parseSubnet(subnet);
        if (containerAddressCount(parsed) < 1) throw new Error('subnet has no room for containers');
      } catch (err) {
        problems.push({ field: 'subnet', problems: [(err as Error).message] });
      }
    }
    if (driver !== 'auto' && !this.drivers.implemented().includes(driver)) {
      problems.push({
        field: 'driver',
        problems: [`driver ${driver} is not available in this build`],
      });
    }
    if (problems.length > 0) {
      throw new ValidationFailedError(
        problems.map((p) => `${p.field}: ${p.problems.join(', ')}`).join('; '),
        problems,
      );
    }
  }

  private async assertSubnetChangeAllowed(host: HostEntity, subnet: string): Promise<void> {
    if (parseSubnet(host.subnet).cidr === subnet) return;
    const counts = await this.counts([host.id]);
    if ((counts.get(host.id)?.live ?? 0) > 0) {
      throw new ConflictError(`host ${host.name} has containers; its subnet cannot change now`);
    }
  }

  private async freeSubnet(name: string): Promise<string> {
    const others = await this.repo.find({ select: ['subnet', 'name'] });
    return defaultSubnet(others.filter((h) => h.name !== name).map((h) => h.subnet));
  }

  private async resolveDriver(host: HostEntity): Promise<DriverKind> {
    if (host.driver !== 'auto') return host.driver;
    try {
      return await this.drivers.resolveAuto(this.drivers.target(host));
    } catch (err) {
      this.logger.warn(`cannot probe host ${host.name}: ${(err as Error).message}; using sim`);
      return 'sim';
    }
  }
}
