import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsOptional, IsString, IsUUID, Matches } from 'class-validator';
import { AdminOnly } from '../common/auth/auth.decorators';
import { Page, PageQuery } from '../common/pagination';
import { NAME_PATTERN, NAME_RULE } from '../common/validators';
import { EventsService, EventView } from './events.service';

export class ListEventsQuery extends PageQuery {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Matches(NAME_PATTERN, { message: `pool ${NAME_RULE}` })
  pool?: string;

  @ApiPropertyOptional({ description: 'container id' })
  @IsOptional()
  @IsUUID()
  container?: string;

  @ApiPropertyOptional({ description: 'ISO-8601 instant' })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'since must be an ISO-8601 instant' })
  since?: Date;
}

@ApiTags('admin: operations')
@ApiBearerAuth()
@AdminOnly()
@Controller('v1/admin/events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Get()
  list(@Query() query: ListEventsQuery): Promise<Page<EventView>> {
    return this.events.list({
      pool: query.pool,
      container: query.container,
      since: query.since,
      limit: query.limit ?? 100,
      cursor: query.cursor,
    });
  }
}
