import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { PageQuery } from '../../common/pagination';
import { IsArgv, IsStringRecord, NAME_PATTERN, NAME_RULE } from '../../common/validators';

export const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,62}$/;
const LABEL_LIMITS = { maxEntries: 16, keyPattern: LABEL_KEY, maxValueLength: 256 };

export class CreateLeaseDto {
  @ApiProperty({ example: 'default' })
  @IsString()
  @Matches(NAME_PATTERN, { message: `pool ${NAME_RULE}` })
  pool: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 32, default: 1 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(32)
  count?: number;

  @ApiPropertyOptional({ minimum: 1, description: "default: the pool's defaultLeaseSeconds" })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(2_592_000)
  ttlSeconds?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 600, default: 30 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(600)
  waitSeconds?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 9, default: 5 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(9)
  priority?: number;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { build: '1234' },
  })
  @IsOptional()
  @IsStringRecord(LABEL_LIMITS)
  labels?: Record<string, string>;
}

export class RenewLeaseDto {
  @ApiProperty({ minimum: 1, example: 600 })
  @IsInt()
  @Min(1)
  @Max(2_592_000)
  ttlSeconds: number;
}

export const EXEC_LIMITS = { maxItems: 256, maxItemLength: 131_072 };
const ENV_LIMITS = {
  maxEntries: 128,
  keyPattern: /^[A-Za-z_][A-Za-z0-9_]{0,127}$/,
  maxValueLength: 131_072,
};

export class ExecDto {
  @ApiPropertyOptional({ description: 'container id; default the first of the lease' })
  @IsOptional()
  @IsUUID()
  container?: string;

  @ApiProperty({ type: [String], example: ['sh', '-c', 'make test'] })
  @IsArgv(EXEC_LIMITS)
  command: string[];

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { CI: 'true' },
  })
  @IsOptional()
  @IsStringRecord(ENV_LIMITS)
  env?: Record<string, string>;

  @ApiPropertyOptional({ minimum: 1, maximum: 86400, default: 600 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(86_400)
  timeoutSeconds?: number;

  @ApiPropertyOptional({ maxLength: 1048576 })
  @IsOptional()
  @IsString()
  @MaxLength(1_048_576)
  stdin?: string;
}

export class ListLeasesQuery extends PageQuery {
  @ApiPropertyOptional({ enum: ['active', 'released', 'expired', 'revoked'] })
  @IsOptional()
  @IsIn(['active', 'released', 'expired', 'revoked'])
  state?: 'active' | 'released' | 'expired' | 'revoked';

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Matches(NAME_PATTERN, { message: `pool ${NAME_RULE}` })
  pool?: string;

  @ApiPropertyOptional({ description: 'key:value; repeat to require several', type: [String] })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (Array.isArray(value) ? value : [value]))
  @ArrayMaxSize(16)
  @IsString({ each: true })
  @Matches(/^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,62}:.{0,256}$/s, {
    each: true,
    message: 'label must be key:value',
  })
  label?: string[];
}

export class LeaseContainerView {
  @ApiProperty() id: string;
  @ApiProperty({ example: 'wp-3f9c2a1b' }) name: string;
  @ApiProperty({ example: 'local' }) host: string;
  @ApiPropertyOptional({ nullable: true, example: '10.88.0.17' }) ip: string | null;
  @ApiProperty() templateVersion: number;
  @ApiPropertyOptional({ nullable: true }) readyAt: string | null;
}

export class LeaseView {
  @ApiProperty() id: string;
  @ApiProperty() pool: string;
  @ApiPropertyOptional({ nullable: true, description: 'null for leases made with an admin token' })
  tenant: string | null;
  @ApiProperty({ enum: ['active', 'released', 'expired', 'revoked'] }) state: string;
  @ApiProperty() createdAt: string;
  @ApiProperty() expiresAt: string;
  @ApiPropertyOptional() releasedAt?: string;
  @ApiPropertyOptional() endedAt?: string;
  @ApiProperty() waitedMs: number;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) labels: Record<
    string,
    string
  >;
  @ApiProperty({ type: [LeaseContainerView] }) containers: LeaseContainerView[];
}

export class ExecResultView {
  @ApiPropertyOptional({ nullable: true }) exitCode: number | null;
  @ApiProperty() stdout: string;
  @ApiProperty() stderr: string;
  @ApiProperty() durationMs: number;
  @ApiProperty() timedOut: boolean;
  @ApiProperty() truncated: boolean;
}
