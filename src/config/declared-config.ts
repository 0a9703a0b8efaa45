import { ClassConstructor, plainToInstance } from 'class-transformer';
import { IsInt, Matches, Max, Min, validateSync, ValidationError } from 'class-validator';
import { existsSync, readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { flattenValidationErrors } from '../common/validation';
import { NAME_PATTERN } from '../common/validators';
import { PutHostDto } from '../hosts/dto/host.dto';
import { PutPoolDto } from '../pools/dto/pool.dto';
import { PutTemplateDto } from '../templates/dto/template.dto';

export class DeclaredTenantDto {
  @IsInt()
  @Min(0)
  @Max(100_000)
  maxConcurrentContainers: number;

  @Matches(/^[0-9a-fA-F]{64}$/, { message: 'tokenSha256 must be the hex SHA-256 of the token' })
  tokenSha256: string;
}

/** What config/warmpool.yaml declares, each body as the admin API's PUT takes it. */
export interface DeclaredConfig {
  hosts: Record<string, PutHostDto>;
  templates: Record<string, PutTemplateDto>;
  pools: Record<string, PutPoolDto>;
  tenants: Record<string, DeclaredTenantDto>;
}

const SECTIONS = {
  hosts: PutHostDto,
  templates: PutTemplateDto,
  pools: PutPoolDto,
  tenants: DeclaredTenantDto,
} as const;

export class DeclaredConfigError extends Error {
  constructor(file: string, problems: string[]) {
    super(`${file} (WARMPOOL_CONFIG) is invalid:\n  - ${problems.join('\n  - ')}`);
    this.name = 'DeclaredConfigError';
  }
}

/** Read and validate the file; a missing file declares nothing. */
export function readDeclaredConfig(file: string): DeclaredConfig {
  const empty: DeclaredConfig = { hosts: {}, templates: {}, pools: {}, tenants: {} };
  if (!existsSync(file)) return empty;
  let parsed: unknown;
  try {
    parsed = load(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new DeclaredConfigError(file, [
      `not valid YAML: ${(err as Error).message.split('\n')[0]}`,
    ]);
  }
  if (parsed === null || parsed === undefined) return empty;
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new DeclaredConfigError(file, [
      'the top level must be a map of hosts, templates, pools, tenants',
    ]);
  }
  const problems: string[] = [];
  const result = empty as unknown as Record<string, Record<string, object>>;
  for (const [section, body] of Object.entries(parsed as Record<string, unknown>)) {
    if (!(section in SECTIONS)) {
      problems.push(`${section}: unknown section (expected hosts, templates, pools, tenants)`);
      continue;
    }
    if (body === null) continue;
    if (typeof body !== 'object' || Array.isArray(body)) {
      problems.push(`${section}: must be a map of name: body`);
      continue;
    }
    for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
      if (!NAME_PATTERN.test(name)) {
        problems.push(`${section}.${name}: the name must match ${NAME_PATTERN.source}`);
        continue;
      }
      if (
        value !== null &&
        value !== undefined &&
        (typeof value !== 'object' || Array.isArray(value))
      ) {
        problems.push(`${section}.${name}: must be a map of fields`);
        continue;
      }
      const cls = SECTIONS[section as keyof typeof SECTIONS] as ClassConstructor<object>;
      let dto: object;
      try {
        dto = plainToInstance(cls, value ?? {});
      } catch (err) {
        problems.push(`${section}.${name}: cannot be read (${(err as Error).message})`);
        continue;
      }
      const errors: ValidationError[] = validateSync(dto, {
        whitelist: true,
        forbidNonWhitelisted: true,
      });
      for (const f of flattenValidationErrors(errors)) {
        problems.push(`${section}.${name}.${f.field}: ${f.problems.join(', ')}`);
      }
      result[section][name] = dto;
    }
  }
  if (problems.length > 0) throw new DeclaredConfigError(file, problems);
  return result as unknown as DeclaredConfig;
}
