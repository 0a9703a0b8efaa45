import { Controller, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../common/auth/auth.decorators';
import { ValidationFailedError } from '../common/errors';
import { PassReport, ReconcilerService } from './reconciler.service';

@ApiTags('admin: operations')
@ApiBearerAuth()
@AdminOnly()
@Controller('v1/admin/reconcile')
export class ReconcilerController {
  constructor(private readonly reconciler: ReconcilerService) {}

  @Post()
  @HttpCode(200)
  @ApiQuery({
    name: 'wait',
    required: false,
    description: 'also wait for the driver work the pass started',
  })
  @ApiOkResponse({ description: 'what the pass did' })
  run(@Query('wait') wait?: string): Promise<PassReport> {
    if (wait !== undefined && wait !== 'true' && wait !== 'false') {
      throw ValidationFailedError.field('wait', 'must be true or false');
    }
    return this.reconciler.runPass({ waitForJobs: wait === 'true' });
  }
}
