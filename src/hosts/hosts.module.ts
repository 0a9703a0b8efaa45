import { Module } from '@nestjs/common';
import { DriversModule } from '../drivers/drivers.module';
import { HostsController } from './hosts.controller';
import { HostsService } from './hosts.service';

@Module({
  imports: [DriversModule],
  providers: [HostsService],
  controllers: [HostsController],
  exports: [HostsService],
})
export class HostsModule {}
