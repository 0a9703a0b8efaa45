import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches } from 'class-validator';
import { PageQuery } from '../../common/pagination';
import { NAME_PATTERN, NAME_RULE } from '../../common/validators';
import { CONTAINER_STATES } from '../container-state';

export class ListContainersQuery extends PageQuery {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Matches(NAME_PATTERN, { message: `pool ${NAME_RULE}` })
  pool?: string;

  @ApiPropertyOptional({ enum: CONTAINER_STATES })
  @IsOptional()
  @IsIn(CONTAINER_STATES)
  state?: (typeof CONTAINER_STATES)[number];

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Matches(NAME_PATTERN, { message: `host ${NAME_RULE}` })
  host?: string;
}

export class ContainerView {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty() pool: string;
  @ApiProperty() host: string;
  @ApiProperty({ enum: CONTAINER_STATES }) state: string;
  @ApiPropertyOptional({ nullable: true }) ip: string | null;
  @ApiProperty() templateVersion: number;
  @ApiPropertyOptional({ nullable: true }) leaseId: string | null;
  @ApiPropertyOptional({ nullable: true }) error: string | null;
  @ApiProperty({ description: 'entered provisioning' }) createdAt: string;
  @ApiPropertyOptional({ nullable: true }) readyAt: string | null;
  @ApiPropertyOptional({ nullable: true }) leasedAt: string | null;
  @ApiPropertyOptional({ nullable: true }) recyclingAt: string | null;
  @ApiPropertyOptional({ nullable: true }) retiringAt: string | null;
  @ApiPropertyOptional({ nullable: true }) failedAt: string | null;
  @ApiPropertyOptional({ nullable: true }) destroyedAt: string | null;
}
