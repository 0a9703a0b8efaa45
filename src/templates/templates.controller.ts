import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AdminOnly } from '../common/auth/auth.decorators';
import { NamePipe } from '../common/validators';
import { PutTemplateDto, TemplateView } from './dto/template.dto';
import { TemplatesService } from './templates.service';

@ApiTags('admin: templates')
@ApiBearerAuth()
@AdminOnly()
@Controller('v1/admin/templates')
export class TemplatesController {
  constructor(private readonly templates: TemplatesService) {}

  @Put(':name')
  @ApiResponse({ status: 201, type: TemplateView })
  @ApiResponse({ status: 200, type: TemplateView })
  async put(
    @Param('name', NamePipe) name: string,
    @Body() dto: PutTemplateDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TemplateView> {
    const { template, created } = await this.templates.put(name, dto);
    void reply.status(created ? 201 : 200);
    return template;
  }

  @Get()
  async list(): Promise<{ items: TemplateView[]; nextCursor: null }> {
    return { items: await this.templates.list(), nextCursor: null };
  }

  @Get(':name')
  @ApiOkResponse({ type: TemplateView })
  get(@Param('name', NamePipe) name: string): Promise<TemplateView> {
    return this.templates.get(name);
  }

  @Post(':name/rebuild')
  @HttpCode(200)
  @ApiOkResponse({ type: TemplateView })
  rebuild(@Param('name', NamePipe) name: string): Promise<TemplateView> {
    return this.templates.rebuild(name);
  }

  @Delete(':name')
  @HttpCode(204)
  async remove(@Param('name', NamePipe) name: string): Promise<void> {
    await this.templates.remove(name);
  }
}
