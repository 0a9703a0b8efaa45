import { Module } from '@nestjs/common';
import { ContainersController } from '../containers/containers.controller';
import { ContainersModule } from '../containers/containers.module';
import { HostsModule } from '../hosts/hosts.module';
import { AdminLeasesController } from './admin-leases.controller';
import { LeaseQueue } from './lease-queue';
import { LeaseService } from './lease.service';
import { LeaseStore } from './lease.store';
import { LeasesController } from './leases.controller';

@Module({
  imports: [ContainersModule, HostsModule],
  providers: [LeaseStore, LeaseQueue, LeaseService],
  // The admin containers API lives here: destroying a leased container revokes its lease.
  controllers: [LeasesController, AdminLeasesController, ContainersController],
  exports: [LeaseStore, LeaseQueue, LeaseService],
})
export class LeasesModule {}
