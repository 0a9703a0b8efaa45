import { Inject, Injectable } from '@nestjs/common';
import type { CommandRunner } from './command-runner';
import { createCommandRunner } from './command-runner.factory';
import { ContainerDriver, DriverKind, HostTarget } from './container-driver';
import { gatewayOf, parseSubnet } from '../hosts/subnet';

export const CONTAINER_DRIVERS = Symbol('CONTAINER_DRIVERS');

/** `auto` prefers the production platform, then real containers, then the simulation. */
const AUTO_PREFERENCE: DriverKind[] = ['openvz', 'lxc', 'sim'];

export interface HostAddressing {
  name: string;
  address: string;
  options: Record<string, unknown>;
  subnet: string;
}

/** The adapters behind the ContainerDriver port, chosen per host. */
@Injectable()
export class DriverRegistry {
  private readonly runners = new Map<string, CommandRunner>();

  constructor(@Inject(CONTAINER_DRIVERS) private readonly drivers: ContainerDriver[]) {}

  implemented(): DriverKind[] {
    return this.drivers.map((d) => d.kind);
  }

  get(kind: DriverKind): ContainerDriver {
    const driver = this.drivers.find((d) => d.kind === kind);
    if (!driver) throw new Error(`driver ${kind} is not available in this build`);
    return driver;
  }

  /** What `auto` means on this host: the first implemented platform that is available there. */
  async resolveAuto(target: HostTarget): Promise<DriverKind> {
    for (const kind of AUTO_PREFERENCE) {
      const driver = this.drivers.find((d) => d.kind === kind);
      if (driver && (await driver.isAvailable(target).catch(() => false))) return kind;
    }
    return 'sim';
  }

  /** Everything a driver needs of a host; runners are reused while the address is unchanged. */
  target(host: HostAddressing): HostTarget {
    const key = `${host.name}\0${host.address}\0${JSON.stringify(host.options)}`;
    let runner = this.runners.get(key);
    if (!runner) {
      runner = createCommandRunner(host.address, host.options);
      this.runners.set(key, runner);
    }
    const subnet = parseSubnet(host.subnet);
    return {
      name: host.name,
      address: host.address,
      options: host.options,
      subnet: subnet.cidr,
      gateway: gatewayOf(subnet),
      prefixLength: subnet.prefixLength,
      runner,
    };
  }
}
