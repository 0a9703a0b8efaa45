import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ConflictError, NotFoundError, ValidationFailedError } from '../common/errors';
import { queryRows } from '../database/sql';
import { EventsService } from '../events/events.service';
import { PutTemplateDto, TemplateView } from './dto/template.dto';
import { TemplateBuildEntity } from './template-build.entity';
import { TemplateEntity } from './template.entity';

function sourceProblems(dto: PutTemplateDto): string | null {
  const source = dto.source ?? {};
  const given = Object.keys(source).filter((k) => source[k as keyof typeof source] !== undefined);
  switch (dto.driver) {
    case 'lxc':
      if (source.ostemplate) return 'an lxc template takes lxcTemplate or rootfs, not ostemplate';
      if (source.lxcTemplate && source.rootfs) return 'give lxcTemplate or rootfs, not both';
      return null;
    case 'openvz':
      if (!source.ostemplate) return 'an openvz template needs source.ostemplate';
      if (source.lxcTemplate || source.rootfs) return 'an openvz template takes only ostemplate';
      return null;
    case 'sim':
      return given.length > 0 ? 'a sim template takes no source' : null;
    case 'auto':
      return source.lxcTemplate && source.rootfs ? 'give lxcTemplate or rootfs, not both' : null;
  }
}

/** Golden images. Building them is the reconciler's job (TemplateBuilder); this is their record. */
@Injectable()
export class TemplatesService {
  constructor(
    private readonly db: DataSource,
    private readonly events: EventsService,
  ) {}

  private get repo() {
    return this.db.getRepository(TemplateEntity);
  }

  async put(
    name: string,
    dto: PutTemplateDto,
  ): Promise<{ template: TemplateView; created: boolean }> {
    const problem = sourceProblems(dto);
    if (problem) throw ValidationFailedError.field('source', problem);
    const source = JSON.parse(JSON.stringify(dto.source ?? {})) as Record<string, unknown>;
    const setup = dto.setup ?? [];
    const existing = await this.repo.findOne({ where: { name } });
    if (existing) {
      const same =
        existing.driver === dto.driver &&
        JSON.stringify(existing.source) === JSON.stringify(source) &&
        JSON.stringify(existing.setup) === JSON.stringify(setup);
      if (!same) {
        Object.assign(existing, { driver: dto.driver, source, setup });
        await this.bumpVersion(existing, 'template.updated');
      }
      return { template: await this.view(existing), created: false };
    }
    const template = this.repo.create({
      id: randomUUID(),
      name,
      driver: dto.driver,
      source,
      setup,
      version: 1,
      state: 'building',
    });
    await this.repo.save(template);
    await this.events.record(this.db, [
      { type: 'template.created', details: { template: name, version: 1 } },
    ]);
    return { template: await this.view(template), created: true };
  }

  async rebuild(name: string): Promise<TemplateView> {
    const template = await this.require(name);
    await this.bumpVersion(template, 'template.rebuild');
    return this.view(template);
  }

  async remove(name: string): Promise<void> {
    const template = await this.require(name);
    const users = await queryRows<{ pools: number; containers: number }>(
      this.db,
      `SELECT (SELECT count(*)::int FROM pools WHERE template_id = $1 AND deleted_at IS NULL) AS pools,
              (SELECT count(*)::int FROM containers WHERE template_id = $1 AND state <> 'destroyed') AS containers`,
      [template.id],
    );
    if (users[0].pools > 0) throw new ConflictError(`template ${name} is used by a pool`);
    if (users[0].containers > 0) {
      throw new ConflictError(`template ${name} still has containers; retry when they are gone`);
    }
    await this.db.transaction(async (tx) => {
      // The goldens themselves are removed from the hosts by the reconciler.
      await tx.query(`UPDATE template_builds SET state = 'removing' WHERE template_id = $1`, [
        template.id,
      ]);
      await tx.getRepository(TemplateEntity).delete({ id: template.id });
      await this.events.record(tx, [{ type: 'template.deleted', details: { template: name } }]);
    });
  }

  async list(): Promise<TemplateView[]> {
    const templates = await this.repo.find({ order: { name: 'ASC' } });
    return Promise.all(templates.map((t) => this.view(t)));
  }

  async get(name: string): Promise<TemplateView> {
    return this.view(await this.require(name));
  }

  async require(name: string): Promise<TemplateEntity> {
    const template = await this.repo.findOne({ where: { name } });
    if (!template) throw NotFoundError.of('template', name);
    return template;
  }

  private async bumpVersion(template: TemplateEntity, type: string): Promise<void> {
    template.version += 1;
    template.state = 'building';
    template.builtAt = null;
    template.error = null;
    await this.repo.save(template);
    await this.events.record(this.db, [
      { type, details: { template: template.name, version: template.version } },
    ]);
  }

  private async view(template: TemplateEntity): Promise<TemplateView> {
    const builds = await queryRows<TemplateBuildEntity & { host_name: string }>(
      this.db,
      `SELECT b.version, b.state, b.error, b.built_at AS "builtAt", h.name AS host_name
         FROM template_builds b JOIN hosts h ON h.id = b.host_id
        WHERE b.template_id = $1 AND b.state <> 'removed'
        ORDER BY b.version DESC, h.name`,
      [template.id],
    );
    return {
      id: template.id,
      name: template.name,
      driver: template.driver,
      source: template.source,
      setup: template.setup,
      version: template.version,
      state: template.state,
      builtAt: template.builtAt?.toISOString() ?? null,
      error: template.error,
      builds: builds.map((b) => ({
        host: b.host_name,
        version: b.version,
        state: b.state,
        error: b.error,
        builtAt: b.builtAt ? new Date(b.builtAt).toISOString() : null,
      })),
      createdAt: template.createdAt.toISOString(),
      updatedAt: template.updatedAt.toISOString(),
    };
  }
}
