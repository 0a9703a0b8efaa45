import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Put, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AdminOnly } from '../common/auth/auth.decorators';
import { ReconcileKicker } from '../coordination/reconcile-kicker';
import { NamePipe } from '../common/validators';
import { HostView, PatchHostDto, PutHostDto } from './dto/host.dto';
import { HostsService } from './hosts.service';

@ApiTags('admin: hosts')
@ApiBearerAuth()
@AdminOnly()
@Controller('v1/admin/hosts')
export class HostsController {
  constructor(
    private readonly hosts: HostsService,
    private readonly kicker: ReconcileKicker,
  ) {}

  @Put(':name')
  @ApiResponse({ status: 201, type: HostView })
  @ApiResponse({ status: 200, type: HostView })
  async put(
    @Param('name', NamePipe) name: string,
    @Body() dto: PutHostDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<HostView> {
    const { host, created } = await this.hosts.put(name, dto);
    this.kicker.kick();
    void reply.status(created ? 201 : 200);
    return host;
  }

  @Patch(':name')
  @ApiOkResponse({ type: HostView })
  async patch(@Param('name', NamePipe) name: string, @Body() dto: PatchHostDto): Promise<HostView> {
    const host = await this.hosts.patch(name, dto);
    this.kicker.kick();
    return host;
  }

  @Get()
  async list(): Promise<{ items: HostView[]; nextCursor: null }> {
    return { items: await this.hosts.list(), nextCursor: null };
  }

  @Get(':name')
  @ApiOkResponse({ type: HostView })
  get(@Param('name', NamePipe) name: string): Promise<HostView> {
    return this.hosts.get(name);
  }

  @Delete(':name')
  @HttpCode(204)
  async remove(@Param('name', NamePipe) name: string): Promise<void> {
    await this.hosts.remove(name);
  }
}
