import { Body, Controller, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../common/auth/auth.decorators';
import { NamePipe } from '../common/validators';
import {
  CreateTenantDto,
  PatchTenantDto,
  TenantTokenView,
  TenantView,
  TenantWithTokenView,
} from './dto/tenant.dto';
import { TenantsService } from './tenants.service';

@ApiTags('admin: tenants')
@ApiBearerAuth()
@AdminOnly()
@Controller('v1/admin/tenants')
export class TenantsController {
  constructor(private readonly tenants: TenantsService) {}

  @Post()
  @ApiResponse({
    status: 201,
    type: TenantWithTokenView,
    description: 'the token is shown only here',
  })
  create(@Body() dto: CreateTenantDto): Promise<TenantWithTokenView> {
    return this.tenants.create(dto.name, dto.maxConcurrentContainers);
  }

  @Get()
  async list(): Promise<{ items: TenantView[]; nextCursor: null }> {
    return { items: await this.tenants.list(), nextCursor: null };
  }

  @Get(':name')
  @ApiOkResponse({ type: TenantView })
  get(@Param('name', NamePipe) name: string): Promise<TenantView> {
    return this.tenants.get(name);
  }

  @Patch(':name')
  @ApiOkResponse({ type: TenantView })
  patch(@Param('name', NamePipe) name: string, @Body() dto: PatchTenantDto): Promise<TenantView> {
    return this.tenants.patch(name, dto.maxConcurrentContainers);
  }

  @Post(':name/token')
  @HttpCode(200)
  @ApiOkResponse({ type: TenantTokenView, description: 'the old token stops working now' })
  rotate(@Param('name', NamePipe) name: string): Promise<TenantTokenView> {
    return this.tenants.rotateToken(name);
  }
}
