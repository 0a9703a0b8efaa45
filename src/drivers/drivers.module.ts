import { Module } from '@nestjs/common';
import { CONTAINER_DRIVERS, DriverRegistry } from './driver-registry';
import { LxcDriver } from './lxc/lxc.driver';
import { OpenVzDriver } from './openvz/openvz.driver';
import { SimDriver } from './sim/sim.driver';

@Module({
  providers: [
    SimDriver,
    LxcDriver,
    OpenVzDriver,
    {
      provide: CONTAINER_DRIVERS,
      useFactory: (sim: SimDriver, lxc: LxcDriver, openvz: OpenVzDriver) => [openvz, lxc, sim],
      inject: [SimDriver, LxcDriver, OpenVzDriver],
    },
    DriverRegistry,
  ],
  exports: [DriverRegistry],
})
export class DriversModule {}
