import { Module } from '@nestjs/common';
import { ContainersModule } from '../containers/containers.module';
import { HostsModule } from '../hosts/hosts.module';
import { LeasesModule } from '../leases/leases.module';
import { ContainerLifecycle } from './container-lifecycle';
import { ReconcilerController } from './reconciler.controller';
import { ReconcilerService } from './reconciler.service';
import { TemplateBuilder } from './template-builder';

@Module({
  imports: [ContainersModule, HostsModule, LeasesModule],
  providers: [ContainerLifecycle, TemplateBuilder, ReconcilerService],
  controllers: [ReconcilerController],
  exports: [ReconcilerService],
})
export class ReconcilerModule {}
