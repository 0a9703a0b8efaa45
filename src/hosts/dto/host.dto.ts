import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';

export class PutHostDto {
  @ApiProperty({ enum: ['lxc', 'openvz', 'sim', 'auto'] })
  @IsIn(['lxc', 'openvz', 'sim', 'auto'])
  driver: 'lxc' | 'openvz' | 'sim' | 'auto';

  @ApiPropertyOptional({ default: 'local', example: 'ssh://root@node7:22' })
  @IsOptional()
  @IsString()
  @MaxLength(300)
  address?: string;

  @ApiPropertyOptional({ default: 200, minimum: 1, maximum: 100000 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100_000)
  maxContainers?: number;

  @ApiPropertyOptional({ default: 4, minimum: 1, maximum: 256 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(256)
  maxConcurrentProvisions?: number;

  @ApiPropertyOptional({
    example: '10.88.0.0/22',
    description: 'default: a free /22 of 10.88.0.0/16',
  })
  @IsOptional()
  @IsString()
  @Matches(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, {
    message: 'subnet must be an IPv4 CIDR such as 10.88.0.0/22',
  })
  subnet?: string;

  @ApiPropertyOptional({ description: 'driver specific, see API.md', type: Object })
  @IsOptional()
  @IsObject()
  options?: Record<string, unknown>;
}

export class PatchHostDto {
  @ApiPropertyOptional({ enum: ['lxc', 'openvz', 'sim', 'auto'] })
  @IsOptional()
  @IsIn(['lxc', 'openvz', 'sim', 'auto'])
  driver?: 'lxc' | 'openvz' | 'sim' | 'auto';

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(300)
  address?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 100000 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100_000)
  maxContainers?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 256 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(256)
  maxConcurrentProvisions?: number;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Matches(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, {
    message: 'subnet must be an IPv4 CIDR such as 10.88.0.0/22',
  })
  subnet?: string;

  @ApiPropertyOptional({ type: Object })
  @IsOptional()
  @IsObject()
  options?: Record<string, unknown>;

  @ApiPropertyOptional({ enum: ['active', 'draining', 'disabled'] })
  @IsOptional()
  @IsIn(['active', 'draining', 'disabled'])
  state?: 'active' | 'draining' | 'disabled';
}

export class HostCountsView {
  @ApiProperty() live: number;
  @ApiProperty() provisioning: number;
  @ApiProperty() ready: number;
  @ApiProperty() leased: number;
  @ApiProperty() recycling: number;
  @ApiProperty() retiring: number;
  @ApiProperty() failed: number;
}

export class HostView {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty() driver: string;
  @ApiPropertyOptional({ nullable: true }) resolvedDriver: string | null;
  @ApiProperty() address: string;
  @ApiProperty() maxContainers: number;
  @ApiProperty() maxConcurrentProvisions: number;
  @ApiProperty() subnet: string;
  @ApiProperty() gateway: string;
  @ApiProperty({ type: Object }) options: Record<string, unknown>;
  @ApiProperty({ enum: ['active', 'draining', 'disabled'] }) state: string;
  @ApiProperty({ enum: ['up', 'down'] }) health: string;
  @ApiPropertyOptional({ nullable: true }) lastError: string | null;
  @ApiProperty({ type: HostCountsView }) counts: HostCountsView;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}
