import { Controller, Delete, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../common/auth/auth.decorators';
import { Page } from '../common/pagination';
import { UuidPipe } from '../common/validators';
import { LeaseService } from '../leases/lease.service';
import { ContainersService } from './containers.service';
import { ContainerView, ListContainersQuery } from './dto/container.dto';

@ApiTags('admin: containers')
@ApiBearerAuth()
@AdminOnly()
@Controller('v1/admin/containers')
export class ContainersController {
  constructor(
    private readonly containers: ContainersService,
    private readonly leases: LeaseService,
  ) {}

  @Get()
  list(@Query() query: ListContainersQuery): Promise<Page<ContainerView>> {
    return this.containers.list(query);
  }

  @Get(':id')
  @ApiOkResponse({ type: ContainerView })
  get(@Param('id', UuidPipe) id: string): Promise<ContainerView> {
    return this.containers.get(id);
  }

  @Delete(':id')
  @ApiOkResponse({
    type: ContainerView,
    description: 'destroyed now; a lease holding it is revoked',
  })
  destroy(@Param('id', UuidPipe) id: string): Promise<ContainerView> {
    return this.containers.destroy(id, (leaseIds) =>
      this.leases.end(leaseIds, 'revoked', 'container_destroyed'),
    );
  }
}
