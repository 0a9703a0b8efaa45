import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsOptional, IsString, Matches, MaxLength, ValidateNested } from 'class-validator';
import { IsArgvList } from '../../common/validators';

export class TemplateSourceDto {
  @ApiPropertyOptional({ description: 'lxc: an LXC template name', example: 'busybox' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z0-9][a-z0-9._-]{0,63}$/, { message: 'lxcTemplate must be an LXC template name' })
  lxcTemplate?: string;

  @ApiPropertyOptional({ description: 'lxc: an absolute path of a root file system to copy' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  @Matches(/^\/(?!.*\.\.)[A-Za-z0-9._/-]+$/, { message: 'rootfs must be an absolute path' })
  rootfs?: string;

  @ApiPropertyOptional({ description: 'openvz: an OS template', example: 'centos-7-x86_64' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, {
    message: 'ostemplate must be an OS template name',
  })
  ostemplate?: string;
}

export const SETUP_LIMITS = { maxCommands: 64, maxItems: 256, maxItemLength: 65_536 };

export class PutTemplateDto {
  @ApiProperty({ enum: ['lxc', 'openvz', 'sim', 'auto'] })
  @IsIn(['lxc', 'openvz', 'sim', 'auto'])
  driver: 'lxc' | 'openvz' | 'sim' | 'auto';

  @ApiPropertyOptional({ type: TemplateSourceDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => TemplateSourceDto)
  source?: TemplateSourceDto;

  @ApiPropertyOptional({
    description: 'argv commands run once inside the golden container before it is frozen',
    example: [['sh', '-c', 'echo ready > /etc/motd']],
    type: 'array',
    items: { type: 'array', items: { type: 'string' } },
  })
  @IsOptional()
  @IsArgvList(SETUP_LIMITS)
  setup?: string[][];
}

export class TemplateBuildView {
  @ApiProperty() host: string;
  @ApiProperty() version: number;
  @ApiProperty({ enum: ['building', 'ready', 'failed', 'removing', 'removed'] }) state: string;
  @ApiPropertyOptional({ nullable: true }) error: string | null;
  @ApiPropertyOptional({ nullable: true }) builtAt: string | null;
}

export class TemplateView {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty() driver: string;
  @ApiProperty({ type: TemplateSourceDto }) source: Record<string, unknown>;
  @ApiProperty({ type: 'array', items: { type: 'array', items: { type: 'string' } } })
  setup: string[][];
  @ApiProperty() version: number;
  @ApiProperty({ enum: ['building', 'ready', 'failed'] }) state: string;
  @ApiPropertyOptional({ nullable: true }) builtAt: string | null;
  @ApiPropertyOptional({ nullable: true }) error: string | null;
  @ApiProperty({ type: [TemplateBuildView] }) builds: TemplateBuildView[];
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}
