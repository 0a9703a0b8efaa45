import type { ResourceLimits } from '../container-driver';

export type CgroupVersion = 'v1' | 'v2';

/** Where each cgroup controller lives on a host, as read from /proc/self/mountinfo. */
export interface CgroupLayout {
  /** v1 controller name (memory, cpu, blkio, name=systemd…) → mount point of its hierarchy. */
  v1: Record<string, string>;
  /** Mount point of the cgroup2 (unified) hierarchy, or null when there is none. */
  unified: string | null;
}

/** One limit as LXC writes it: `lxc.cgroup.<file> = <value>` (v1) or `lxc.cgroup2.<file>` (v2). */
export interface CgroupSetting {
  version: CgroupVersion;
  /** The controller file, e.g. memory.limit_in_bytes or memory.max. */
  file: string;
  value: string;
}

const MIB = 1024 * 1024;
const CFS_PERIOD_US = 100_000;

/** mountinfo escapes space, tab, newline and backslash in paths as octal (\040…). */
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) =>
    String.fromCharCode(parseInt(octal, 8)),
  );
}

export function parseCgroupLayout(mountinfo: string): CgroupLayout {
  const layout: CgroupLayout = { v1: {}, unified: null };
  for (const line of mountinfo.split('\n')) {
    const separator = line.indexOf(' - ');
    if (separator < 0) continue;
    const before = line.slice(0, separator).split(' ');
    const after = line.slice(separator + 3).split(' ');
    const mountPoint = before[4];
    const [fsType, , superOptions = ''] = after;
    if (!mountPoint) continue;
    if (fsType === 'cgroup2') {
      layout.unified ??= unescapeMountPath(mountPoint);
    } else if (fsType === 'cgroup') {
      for (const option of superOptions.split(',')) {
        if (option === 'rw' || option === 'ro' || option.startsWith('release_agent=')) continue;
        layout.v1[option] ??= unescapeMountPath(mountPoint);
      }
    }
  }
  return layout;
}

/**
 * Which keys LXC honours for a controller: a controller bound to a v1 hierarchy is driven with
 * `lxc.cgroup.*` even when a cgroup2 mount also exists (hybrid layout); otherwise the unified
 * hierarchy takes `lxc.cgroup2.*`. null: the host has no cgroup hierarchy at all.
 */
export function controllerVersion(
  layout: CgroupLayout,
  v1Controller: 'memory' | 'cpu' | 'blkio',
): CgroupVersion | null {
  if (layout.v1[v1Controller]) return 'v1';
  return layout.unified ? 'v2' : null;
}

export function configKey(setting: CgroupSetting): string {
  return setting.version === 'v1' ? `lxc.cgroup.${setting.file}` : `lxc.cgroup2.${setting.file}`;
}

/** "254:0" from findmnt or /sys/dev/block; null for virtual filesystems (major 0). */
export function parseBlockDevice(text: string): string | null {
  const match = /^(\d+):(\d+)$/.exec(text.trim());
  if (!match || match[1] === '0') return null;
  return `${match[1]}:${match[2]}`;
}

const DEVICE_PATH = /^\/dev\/[A-Za-z0-9._/-]+$/;

/** A device node path as `options.blockDevice` may give it (resolved on the host). */
export function isDevicePath(text: string): boolean {
  return DEVICE_PATH.test(text) && !text.split('/').includes('..');
}

/**
 * `stat -L -c %F:%t:%T <path>` → "major:minor" (stat prints both in hex), or null when the
 * path is not a block device.
 */
export function parseStatBlockDevice(text: string): string | null {
  const match = /^block special file:([0-9a-f]+):([0-9a-f]+)$/.exec(text.trim());
  if (!match) return null;
  return `${parseInt(match[1], 16)}:${parseInt(match[2], 16)}`;
}

const POSITIVE_LIMITS = ['memoryMb', 'cpus', 'cpuLimitPercent'] as const;
const NON_NEGATIVE_LIMITS = ['swapMb', 'iops', 'diskMb'] as const;
const WHOLE_LIMITS: readonly string[] = ['memoryMb', 'swapMb', 'iops', 'diskMb'];

/**
 * Why these limits cannot be rendered, or null. Sizes are whole MiB so the kernel's page
 * rounding never makes the value read back differ from the one written.
 */
export function resourcesProblem(resources: ResourceLimits): string | null {
  for (const key of [...POSITIVE_LIMITS, ...NON_NEGATIVE_LIMITS]) {
    const value: unknown = resources[key] ?? undefined;
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value))
      return `resources.${key} must be a number`;
    const positive = (POSITIVE_LIMITS as readonly string[]).includes(key);
    if (positive ? value <= 0 : value < 0) {
      return `resources.${key} must be ${positive ? 'positive' : 'zero or more'}`;
    }
    if (WHOLE_LIMITS.includes(key) && !Number.isInteger(value)) {
      return `resources.${key} must be a whole number`;
    }
  }
  return null;
}

export interface LimitPlan {
  settings: CgroupSetting[];
  /** Limits that cannot be expressed on this host, each with the reason. */
  skipped: string[];
}

/**
 * The cgroup settings that enforce `resources` on the given layout. cpus and cpuLimitPercent
 * both become a CFS quota (the tighter one wins): a quota needs no per-host CPU bookkeeping,
 * unlike a cpuset.
 */
export function limitSettings(
  resources: ResourceLimits,
  layout: CgroupLayout,
  blockDevice: string | null,
): LimitPlan {
  const settings: CgroupSetting[] = [];
  const skipped: string[] = [];
  // A limit stored as null (an absent database column) means "no limit", like undefined.
  const memoryMb = resources.memoryMb ?? undefined;
  const swapMb = resources.swapMb ?? undefined;
  const cpus = resources.cpus ?? undefined;
  const cpuLimitPercent = resources.cpuLimitPercent ?? undefined;
  const iops = resources.iops ?? undefined;
  const diskMb = resources.diskMb ?? undefined;

  if (memoryMb !== undefined || swapMb !== undefined) {
    const version = controllerVersion(layout, 'memory');
    if (!version) skipped.push('memory: no memory cgroup on this host');
    else if (version === 'v1') {
      if (memoryMb !== undefined) {
        settings.push({ version, file: 'memory.limit_in_bytes', value: String(memoryMb * MIB) });
        // memsw bounds memory + swap; the order matters, it may never be below the memory limit.
        if (swapMb !== undefined) {
          const total = (memoryMb + swapMb) * MIB;
          settings.push({ version, file: 'memory.memsw.limit_in_bytes', value: String(total) });
        }
      } else {
        skipped.push('swapMb: cgroup v1 can only bound swap together with memoryMb');
      }
    } else {
      if (memoryMb !== undefined) {
        settings.push({ version, file: 'memory.max', value: String(memoryMb * MIB) });
      }
      if (swapMb !== undefined) {
        settings.push({ version, file: 'memory.swap.max', value: String(swapMb * MIB) });
      }
    }
  }

  const quotas: number[] = [];
  if (cpus !== undefined) quotas.push(cpus * CFS_PERIOD_US);
  if (cpuLimitPercent !== undefined) quotas.push((cpuLimitPercent / 100) * CFS_PERIOD_US);
  if (quotas.length > 0) {
    // The kernel refuses quotas under 1 ms.
    const quota = Math.max(1000, Math.round(Math.min(...quotas)));
    const version = controllerVersion(layout, 'cpu');
    if (!version) skipped.push('cpu: no cpu cgroup on this host');
    else if (version === 'v1') {
      settings.push({ version, file: 'cpu.cfs_period_us', value: String(CFS_PERIOD_US) });
      settings.push({ version, file: 'cpu.cfs_quota_us', value: String(quota) });
    } else {
      settings.push({ version, file: 'cpu.max', value: `${quota} ${CFS_PERIOD_US}` });
    }
  }

  if (iops !== undefined && iops > 0) {
    const version = controllerVersion(layout, 'blkio');
    if (!blockDevice) {
      // Throttling needs the whole-disk major:minor under the lxc path; a virtual filesystem
      // (overlay, tmpfs, zfs) has none, so there is nothing to throttle.
      skipped.push('iops: no block device known for the lxc path');
    } else if (!version) {
      skipped.push('iops: no blkio/io cgroup on this host');
    } else if (version === 'v1') {
      const value = `${blockDevice} ${iops}`;
      settings.push({ version, file: 'blkio.throttle.read_iops_device', value });
      settings.push({ version, file: 'blkio.throttle.write_iops_device', value });
    } else {
      settings.push({
        version,
        file: 'io.max',
        value: `${blockDevice} riops=${iops} wiops=${iops}`,
      });
    }
  }

  if (diskMb !== undefined) {
    // An overlay delta on a plain directory has no quota; enforcing diskMb needs a
    // quota-capable backing store (LVM, loop image, btrfs qgroups), which this driver does not use.
    skipped.push('diskMb: the overlay backing store has no size quota');
  }
  return { settings, skipped };
}

function keyValues(text: string): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const word of text.trim().split(/\s+/)) {
    const eq = word.indexOf('=');
    if (eq > 0) pairs.set(word.slice(0, eq), word.slice(eq + 1));
  }
  return pairs;
}

/** Whether the value read back from the container's cgroup file shows the setting in force. */
export function settingApplied(setting: CgroupSetting, readBack: string): boolean {
  const actual = readBack.trim();
  if (setting.file === 'io.max') {
    const [device] = setting.value.split(' ');
    const line = actual.split('\n').find((l) => l.startsWith(`${device} `));
    if (!line) return false;
    const got = keyValues(line);
    return [...keyValues(setting.value)].every(([key, value]) => got.get(key) === value);
  }
  if (setting.file.startsWith('blkio.throttle.')) {
    return actual.split('\n').some((line) => line.trim() === setting.value);
  }
  if (setting.file === 'cpu.max') {
    return actual.split(/\s+/).join(' ') === setting.value;
  }
  return actual !== '' && actual === setting.value;
}
