import { Controller, Delete, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../common/auth/auth.decorators';
import { Page } from '../common/pagination';
import { UuidPipe } from '../common/validators';
import { LeaseView, ListLeasesQuery } from './dto/lease.dto';
import { LeaseService } from './lease.service';

@ApiTags('admin: leases')
@ApiBearerAuth()
@AdminOnly()
@Controller('v1/admin/leases')
export class AdminLeasesController {
  constructor(private readonly leases: LeaseService) {}

  @Get()
  list(@Query() query: ListLeasesQuery): Promise<Page<LeaseView>> {
    return this.leases.list({ kind: 'admin' }, query);
  }

  @Delete(':id')
  @ApiOkResponse({ type: LeaseView, description: 'revoked; its containers are recycled' })
  async revoke(@Param('id', UuidPipe) id: string): Promise<LeaseView> {
    await this.leases.get({ kind: 'admin' }, id);
    await this.leases.end([id], 'revoked', 'admin');
    return this.leases.get({ kind: 'admin' }, id);
  }
}
