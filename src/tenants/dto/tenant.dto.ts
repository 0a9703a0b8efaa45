import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsString, Matches, Max, Min } from 'class-validator';
import { NAME_PATTERN, NAME_RULE } from '../../common/validators';

export class CreateTenantDto {
  @ApiProperty({ example: 'ci' })
  @IsString()
  @Matches(NAME_PATTERN, { message: `name ${NAME_RULE}` })
  name: string;

  @ApiProperty({ example: 50, minimum: 0, maximum: 100000 })
  @IsInt()
  @Min(0)
  @Max(100_000)
  maxConcurrentContainers: number;
}

export class PatchTenantDto {
  @ApiProperty({ minimum: 0, maximum: 100000 })
  @IsInt()
  @Min(0)
  @Max(100_000)
  maxConcurrentContainers: number;
}

export class TenantView {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty() maxConcurrentContainers: number;
  @ApiProperty({ description: 'containers leased right now' }) leasedContainers: number;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}

export class TenantWithTokenView extends TenantView {
  @ApiProperty({ description: 'shown once; only its hash is stored' }) token: string;
}

export class TenantTokenView {
  @ApiProperty() name: string;
  @ApiPropertyOptional({ description: 'the new token; the old one stops working now' })
  token: string;
}
