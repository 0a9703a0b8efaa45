import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { queryRows } from '../database/sql';
import { EventsService } from '../events/events.service';
import { HostEntity } from '../hosts/host.entity';
import { HostsService } from '../hosts/hosts.service';
import { MetricsService } from '../observability/metrics.service';
import { TemplateBuildEntity } from '../templates/template-build.entity';
import { TemplateEntity } from '../templates/template.entity';

export interface BuildReport {
  started: number;
  removed: number;
}

/**
 * Golden images on hosts. Each pass: every active host that runs a template's driver gets
 * a build of the current version; a template is ready once one host has it; superseded
 * goldens are removed once no container uses them.
 */
@Injectable()
export class TemplateBuilder {
  private readonly logger = new Logger('templates');
  private readonly inFlight = new Set<string>();
  private readonly jobs = new Set<Promise<void>>();
  private readonly preparedHosts = new Set<string>();

  constructor(
    private readonly db: DataSource,
    private readonly hosts: HostsService,
    private readonly events: EventsService,
    private readonly metrics: MetricsService,
  ) {}

  async idle(): Promise<void> {
    while (this.jobs.size > 0) await Promise.allSettled([...this.jobs]);
  }

  /** Golden refs by template id, version and host id (those built, or only the ready ones). */
  async goldenRefs(options: { readyOnly: boolean }): Promise<Map<string, string>> {
    const rows = await queryRows<{
      template_id: string;
      version: number;
      host_id: string;
      ref: string;
    }>(
      this.db,
      `SELECT template_id, version, host_id, ref FROM template_builds
        WHERE ref IS NOT NULL ${options.readyOnly ? `AND state = 'ready'` : ''}`,
    );
    return new Map(rows.map((r) => [goldenKey(r.template_id, r.version, r.host_id), r.ref]));
  }

  async pass(hosts: HostEntity[]): Promise<BuildReport> {
    const report: BuildReport = { started: 0, removed: 0 };
    const templates = await this.db.getRepository(TemplateEntity).find();
    const builds = await this.db.getRepository(TemplateBuildEntity).find();
    const buildable = hosts.filter((h) => h.state === 'active' && h.resolvedDriver);

    for (const template of templates) {
      const eligible = buildable.filter(
        (h) => template.driver === 'auto' || template.driver === h.resolvedDriver,
      );
      for (const host of eligible) {
        let build = builds.find(
          (b) =>
            b.templateId === template.id && b.version === template.version && b.hostId === host.id,
        );
        if (!build) {
          build = this.db.getRepository(TemplateBuildEntity).create({
            id: randomUUID(),
            templateId: template.id,
            version: template.version,
            hostId: host.id,
            state: 'building',
          });
          await this.db.getRepository(TemplateBuildEntity).insert(build);
          builds.push(build);
        }
        if (build.state === 'building' && !this.inFlight.has(build.id)) {
          this.build(template, build, host, eligible.length);
          report.started++;
        }
      }
      await this.updateTemplateState(template, eligible.length);
    }

    report.removed += await this.removeSuperseded(templates, builds, hosts);
    return report;
  }

  private build(
    template: TemplateEntity,
    build: TemplateBuildEntity,
    host: HostEntity,
    eligibleHosts: number,
  ): void {
    this.track(build.id, async () => {
      const driver = this.hosts.driverOf(host);
      const target = this.hosts.target(host);
      try {
        if (!this.preparedHosts.has(host.id)) {
          await driver.prepareHost(target);
          this.preparedHosts.add(host.id);
        }
        const { ref } = await driver.buildTemplate(target, {
          name: template.name,
          version: template.version,
          source: template.source,
          setup: template.setup,
        });
        await this.db
          .getRepository(TemplateBuildEntity)
          .update(
            { id: build.id, state: 'building' },
            { state: 'ready', ref, builtAt: new Date(), error: null },
          );
        await this.hosts.recordSuccess(host);
        await this.events.record(this.db, [
          {
            type: 'template.built',
            hostId: host.id,
            details: { template: template.name, version: template.version, ref },
          },
        ]);
      } catch (err) {
        const message = (err as Error).message.slice(0, 2000);
        this.logger.warn(
          `building ${template.name} v${template.version} on ${host.name} failed: ${message}`,
        );
        this.metrics.driverErrors.inc({ host: host.name, op: 'buildTemplate' });
        await this.hosts.recordFailure(host, 'buildTemplate', message);
        await this.db
          .getRepository(TemplateBuildEntity)
          .update({ id: build.id, state: 'building' }, { state: 'failed', error: message });
        await this.events.record(this.db, [
          {
            type: 'template.build_failed',
            hostId: host.id,
            details: { template: template.name, version: template.version, error: message },
          },
        ]);
      }
      // Say so at once: pools waiting on this template clone from it on the next pass.
      await this.updateTemplateState(template, eligibleHosts);
    });
  }

  /** ready once one host has the current version; failed when every eligible host failed. */
  private async updateTemplateState(
    template: TemplateEntity,
    eligibleHosts: number,
  ): Promise<void> {
    const fresh = await this.db
      .getRepository(TemplateBuildEntity)
      .find({ where: { templateId: template.id, version: template.version } });
    let state: TemplateEntity['state'] = 'building';
    let error: string | null = null;
    let builtAt: Date | null = null;
    const ready = fresh.filter((b) => b.state === 'ready');
    if (ready.length > 0) {
      state = 'ready';
      builtAt = ready.map((b) => b.builtAt!).sort((a, b) => a.getTime() - b.getTime())[0];
    } else if (eligibleHosts === 0) {
      state = 'failed';
      error = `no active host runs the ${template.driver} driver`;
    } else if (fresh.length > 0 && fresh.every((b) => b.state === 'failed')) {
      state = 'failed';
      error = fresh[0].error;
    }
    if (
      state !== template.state ||
      error !== template.error ||
      (builtAt?.getTime() ?? null) !== (template.builtAt?.getTime() ?? null)
    ) {
      await this.db
        .getRepository(TemplateEntity)
        .update({ id: template.id, version: template.version }, { state, error, builtAt });
    }
  }

  /** Old versions (and deleted templates) go once no live container was cloned from them. */
  private async removeSuperseded(
    templates: TemplateEntity[],
    builds: TemplateBuildEntity[],
    hosts: HostEntity[],
  ): Promise<number> {
    const versionOf = new Map(templates.map((t) => [t.id, t.version]));
    const candidates = builds.filter((b) => {
      const current = versionOf.get(b.templateId);
      return b.state === 'removing' || current === undefined || b.version < current;
    });
    if (candidates.length === 0) return 0;
    const used = await queryRows<{
      template_id: string;
      template_version: number;
      host_id: string;
    }>(
      this.db,
      `SELECT DISTINCT template_id, template_version, host_id FROM containers WHERE state <> 'destroyed'`,
    );
    const inUse = new Set(used.map((u) => goldenKey(u.template_id, u.template_version, u.host_id)));
    let removed = 0;
    for (const build of candidates) {
      if (inUse.has(goldenKey(build.templateId, build.version, build.hostId))) continue;
      if (this.inFlight.has(build.id)) continue;
      const host = hosts.find((h) => h.id === build.hostId);
      removed++;
      this.track(build.id, async () => {
        if (host && build.ref) {
          try {
            await this.hosts.driverOf(host).removeTemplate(this.hosts.target(host), build.ref);
          } catch (err) {
            this.logger.warn(
              `removing golden ${build.ref} on ${host.name} failed: ${(err as Error).message}`,
            );
            await this.db
              .getRepository(TemplateBuildEntity)
              .update({ id: build.id }, { state: 'removing' });
            return;
          }
        }
        await this.db.getRepository(TemplateBuildEntity).delete({ id: build.id });
      });
    }
    return removed;
  }

  private track(id: string, work: () => Promise<void>): void {
    this.inFlight.add(id);
    const running = work()
      .catch((err: Error) => this.logger.error(`template job crashed: ${err.stack ?? err.message}`))
      .finally(() => {
        this.inFlight.delete(id);
        this.jobs.delete(running);
      });
    this.jobs.add(running);
  }
}

export function goldenKey(templateId: string, version: number, hostId: string): string {
  return `${templateId}/${version}/${hostId}`;
}
