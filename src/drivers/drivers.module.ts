import { Module } from '@nestjs/common';
import { CONTAINER_DRIVERS, DriverRegistry } from './driver-registry';
import { SimDriver } from './sim/sim.driver';

@Module({
  providers: [
    SimDriver,
    {
      provide: CONTAINER_DRIVERS,
      useFactory: (sim: SimDriver) => [sim],
      inject: [SimDriver],
    },
    DriverRegistry,
  ],
  exports: [DriverRegistry],
})
export class DriversModule {}
