import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  registerDecorator,
  ValidateNested,
  ValidationArguments,
} from 'class-validator';
import { NAME_PATTERN, NAME_RULE } from '../../common/validators';
import { cronProblem } from '../../reconciler/schedule';

function IsCron(): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isCron',
      target: target.constructor,
      propertyName: String(propertyName),
      validator: {
        validate(value: unknown, args: ValidationArguments): boolean {
          const tz = (args.object as { timezone?: string }).timezone;
          return (
            typeof value === 'string' && value.length <= 128 && cronProblem(value, tz) === null
          );
        },
        defaultMessage(): string {
          return 'cron must be a 5- or 6-field cron expression';
        },
      },
    });
}

function IsTimezone(): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isTimezone',
      target: target.constructor,
      propertyName: String(propertyName),
      validator: {
        validate(value: unknown): boolean {
          if (typeof value !== 'string' || value.length > 64) return false;
          try {
            new Intl.DateTimeFormat('en', { timeZone: value });
            return true;
          } catch {
            return false;
          }
        },
        defaultMessage(): string {
          return 'timezone must be an IANA time zone such as Europe/London';
        },
      },
    });
}

export class ResourcesDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 256 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(256)
  cpus?: number;

  @ApiPropertyOptional({ minimum: 16, maximum: 1048576 })
  @IsOptional()
  @IsInt()
  @Min(16)
  @Max(1_048_576)
  memoryMb?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 1048576 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1_048_576)
  swapMb?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 16777216 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(16_777_216)
  diskMb?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 25600 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(25_600)
  cpuLimitPercent?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 1000000 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  iops?: number;

  @ApiPropertyOptional({ enum: ['isolated', 'shared', 'none'], default: 'isolated' })
  @IsOptional()
  @IsIn(['isolated', 'shared', 'none'])
  network?: 'isolated' | 'shared' | 'none';
}

export class ScheduleDto {
  @ApiProperty({ example: '0 8 * * 1-5', description: 'when the window starts' })
  @IsString()
  @IsCron()
  cron: string;

  @ApiProperty({ minimum: 1, maximum: 10080 })
  @IsInt()
  @Min(1)
  @Max(10_080)
  durationMinutes: number;

  @ApiPropertyOptional({ example: 'Europe/London', default: 'UTC' })
  @IsOptional()
  @IsTimezone()
  timezone?: string;

  @ApiProperty({ minimum: 0, maximum: 100000 })
  @IsInt()
  @Min(0)
  @Max(100_000)
  minReady: number;
}

export class PredictiveDto {
  @ApiProperty()
  @IsBoolean()
  enabled: boolean;

  @ApiPropertyOptional({ minimum: 0.0001, maximum: 0.5, default: 0.01 })
  @IsOptional()
  @IsNumber()
  @Min(0.0001)
  @Max(0.5)
  targetWaitProbability?: number;

  @ApiPropertyOptional({ minimum: 5, maximum: 10080, default: 60 })
  @IsOptional()
  @IsInt()
  @Min(5)
  @Max(10_080)
  windowMinutes?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 28, default: 7 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(28)
  seasonalDays?: number;
}

/** PUT /v1/admin/pools/{name}: the whole pool; omitted fields take their defaults. */
export class PutPoolDto {
  @ApiProperty({ example: 'default' })
  @IsString()
  @Matches(NAME_PATTERN, { message: `template ${NAME_RULE}` })
  template: string;

  @ApiPropertyOptional({ type: ResourcesDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => ResourcesDto)
  resources?: ResourcesDto;

  @ApiPropertyOptional({ minimum: 0, default: 1 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(100_000)
  minReady?: number;

  @ApiPropertyOptional({ minimum: 0, description: 'default: max(50, minReady)' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(100_000)
  maxReady?: number;

  @ApiPropertyOptional({ minimum: 0, description: 'default: max(100, maxReady)' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(100_000)
  maxTotal?: number;

  @ApiPropertyOptional({ minimum: 1, default: 3600 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(2_592_000)
  defaultLeaseSeconds?: number;

  @ApiPropertyOptional({ minimum: 1, default: 21600 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(2_592_000)
  maxLeaseSeconds?: number;

  @ApiPropertyOptional({ minimum: 1, default: 86400 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(31_536_000)
  maxIdleSeconds?: number;

  @ApiPropertyOptional({ minimum: 0, default: 300 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(86_400)
  scaleDownDelaySeconds?: number;

  @ApiPropertyOptional({ enum: ['destroy', 'reset'], default: 'destroy' })
  @IsOptional()
  @IsIn(['destroy', 'reset'])
  recycle?: 'destroy' | 'reset';

  @ApiPropertyOptional({ type: [ScheduleDto] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @ValidateNested({ each: true })
  @Type(() => ScheduleDto)
  schedules?: ScheduleDto[];

  @ApiPropertyOptional({ type: PredictiveDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => PredictiveDto)
  predictive?: PredictiveDto;
}

/** PATCH: any subset; merged with the pool, then the same rules apply. */
export class PatchPoolDto extends PartialType(PutPoolDto) {}

export class PoolStatusView {
  @ApiProperty() ready: number;
  @ApiProperty() provisioning: number;
  @ApiProperty() leased: number;
  @ApiProperty() recycling: number;
  @ApiProperty() retiring: number;
  @ApiProperty() failed: number;
  @ApiProperty() target: number;
  @ApiProperty({ enum: ['schedule', 'predictive', 'minReady'] }) targetReason: string;
  @ApiProperty() waiting: number;
  @ApiProperty({ description: 'leased / (all live containers); 0 when empty' }) utilization: number;
}

export class PoolView {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty() template: string;
  @ApiProperty({ type: ResourcesDto }) resources: ResourcesDto;
  @ApiProperty() minReady: number;
  @ApiProperty() maxReady: number;
  @ApiProperty() maxTotal: number;
  @ApiProperty() defaultLeaseSeconds: number;
  @ApiProperty() maxLeaseSeconds: number;
  @ApiProperty() maxIdleSeconds: number;
  @ApiProperty() scaleDownDelaySeconds: number;
  @ApiProperty({ enum: ['destroy', 'reset'] }) recycle: string;
  @ApiProperty({ type: [ScheduleDto] }) schedules: ScheduleDto[];
  @ApiPropertyOptional({ type: PredictiveDto, nullable: true }) predictive: PredictiveDto | null;
  @ApiProperty({ enum: ['active', 'draining'] }) state: string;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
  @ApiProperty({ type: PoolStatusView }) status: PoolStatusView;
}
