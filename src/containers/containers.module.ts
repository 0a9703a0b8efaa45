import { Module } from '@nestjs/common';
import { ContainerStore } from './container.store';
import { ContainersService } from './containers.service';

@Module({
  providers: [ContainerStore, ContainersService],
  exports: [ContainerStore, ContainersService],
})
export class ContainersModule {}
