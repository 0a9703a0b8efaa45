import { ResourceLimits } from '../container-driver';

/**
 * The `vzctl set` words for a pool's resource shape and address (without `--save`).
 * Sizes go in MiB with vzctl's M suffix; --cpulimit is in percent (vzctl's default unit,
 * 100 per CPU); --iopslimit 0 means unlimited. ResourceLimits has no bandwidth figure, so
 * --iolimit is never sent.
 */
export function vzctlSetArgs(resources: ResourceLimits, ip: string | null): string[] {
  const args: string[] = [];
  const count = (name: string, value: number | undefined, min: number): number | undefined => {
    if (value === undefined) return undefined;
    if (!Number.isInteger(value) || value < min) {
      throw new Error(`${name} must be an integer >= ${min}, got ${value}`);
    }
    return value;
  };
  const ram = count('memoryMb', resources.memoryMb, 1);
  if (ram !== undefined) args.push('--ram', `${ram}M`);
  const swap = count('swapMb', resources.swapMb, 0);
  if (swap !== undefined) args.push('--swap', `${swap}M`);
  if (resources.cpus !== undefined) {
    if (!Number.isFinite(resources.cpus) || resources.cpus <= 0) {
      throw new Error(`cpus must be > 0, got ${resources.cpus}`);
    }
    // --cpus takes whole CPUs; a fractional share is what --cpulimit is for.
    args.push('--cpus', String(Math.ceil(resources.cpus)));
  }
  const cpuLimit = count('cpuLimitPercent', resources.cpuLimitPercent, 0);
  if (cpuLimit !== undefined) args.push('--cpulimit', String(cpuLimit));
  const disk = count('diskMb', resources.diskMb, 1);
  if (disk !== undefined) args.push('--diskspace', `${disk}M`);
  const iops = count('iops', resources.iops, 0);
  if (iops !== undefined) args.push('--iopslimit', String(iops));
  if (ip !== null) args.push('--ipadd', ip);
  return args;
}
