import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Put,
  Query,
  Res,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AdminOnly } from '../common/auth/auth.decorators';
import { ValidationFailedError } from '../common/errors';
import { NamePipe } from '../common/validators';
import { LeaseService } from '../leases/lease.service';
import { PatchPoolDto, PoolView, PutPoolDto } from './dto/pool.dto';
import { PoolsService } from './pools.service';

@ApiTags('admin: pools')
@ApiBearerAuth()
@AdminOnly()
@Controller('v1/admin/pools')
export class PoolsController {
  constructor(
    private readonly pools: PoolsService,
    private readonly leases: LeaseService,
  ) {}

  @Put(':name')
  @ApiResponse({ status: 201, type: PoolView })
  @ApiResponse({ status: 200, type: PoolView })
  async put(
    @Param('name', NamePipe) name: string,
    @Body() dto: PutPoolDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PoolView> {
    const { pool, created } = await this.pools.put(name, dto);
    void reply.status(created ? 201 : 200);
    return pool;
  }

  @Patch(':name')
  @ApiOkResponse({ type: PoolView })
  patch(@Param('name', NamePipe) name: string, @Body() dto: PatchPoolDto): Promise<PoolView> {
    return this.pools.patch(name, dto);
  }

  @Get()
  async list(): Promise<{ items: PoolView[]; nextCursor: null }> {
    return { items: await this.pools.list(), nextCursor: null };
  }

  @Get(':name')
  @ApiOkResponse({ type: PoolView })
  get(@Param('name', NamePipe) name: string): Promise<PoolView> {
    return this.pools.get(name);
  }

  @Delete(':name')
  @HttpCode(204)
  @ApiQuery({ name: 'force', required: false, description: 'revoke active leases' })
  async remove(
    @Param('name', NamePipe) name: string,
    @Query('force') force?: string,
  ): Promise<void> {
    if (force !== undefined && force !== 'true' && force !== 'false') {
      throw ValidationFailedError.field('force', 'must be true or false');
    }
    await this.pools.remove(name, force === 'true', async (ids) => {
      await this.leases.end(ids, 'revoked', 'pool_deleted');
    });
  }
}
