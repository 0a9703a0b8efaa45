import { Module } from '@nestjs/common';
import { EventsController } from './events.controller';

/** EventsService itself is global (CoreModule): every state change writes through it. */
@Module({ controllers: [EventsController] })
export class EventsModule {}
