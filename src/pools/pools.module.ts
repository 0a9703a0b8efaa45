import { Module } from '@nestjs/common';
import { ContainersModule } from '../containers/containers.module';
import { LeasesModule } from '../leases/leases.module';
import { PoolsController } from './pools.controller';
import { PoolsService } from './pools.service';

@Module({
  imports: [ContainersModule, LeasesModule],
  providers: [PoolsService],
  controllers: [PoolsController],
  exports: [PoolsService],
})
export class PoolsModule {}
