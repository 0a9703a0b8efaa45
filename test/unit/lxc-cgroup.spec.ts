import {
  CgroupLayout,
  configKey,
  controllerVersion,
  limitSettings,
  parseBlockDevice,
  parseCgroupLayout,
  resourcesProblem,
  settingApplied,
} from '../../src/drivers/lxc/cgroup';

// This very machine: v1 controllers plus an empty cgroup2 mount (systemd's "hybrid" layout).
const HYBRID = `
22 28 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;

const UNIFIED = `
25 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
26 25 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:8 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`;

const V1_COMBINED = `
30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct
31 25 0:27 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory
`;

const MIB = 1024 * 1024;

describe('parseCgroupLayout', () => {
  it('reads a hybrid host as v1 for every controller bound to a v1 hierarchy', () => {
    const layout = parseCgroupLayout(HYBRID);
    expect(layout.unified).toBe('/sys/fs/cgroup/unified');
    expect(layout.v1.memory).toBe('/sys/fs/cgroup/memory');
    expect(layout.v1['name=systemd']).toBe('/sys/fs/cgroup/systemd');
    expect(controllerVersion(layout, 'memory')).toBe('v1');
    expect(controllerVersion(layout, 'cpu')).toBe('v1');
    expect(controllerVersion(layout, 'blkio')).toBe('v1');
  });

  it('reads a pure cgroup2 host as v2', () => {
    const layout = parseCgroupLayout(UNIFIED);
    expect(layout).toEqual({ v1: {}, unified: '/sys/fs/cgroup' });
    expect(controllerVersion(layout, 'memory')).toBe('v2');
  });

  it('splits co-mounted controllers and ignores the rw flag', () => {
    const layout = parseCgroupLayout(V1_COMBINED);
    expect(layout.v1.cpu).toBe('/sys/fs/cgroup/cpu,cpuacct');
    expect(layout.v1.cpuacct).toBe('/sys/fs/cgroup/cpu,cpuacct');
    expect(layout.v1.rw).toBeUndefined();
    expect(layout.unified).toBeNull();
    expect(controllerVersion(layout, 'blkio')).toBeNull();
  });

  it('unescapes octal sequences in mount points', () => {
    const layout = parseCgroupLayout('40 31 0:37 / /mnt/my\\040cgroups rw - cgroup2 cgroup2 rw\n');
    expect(layout.unified).toBe('/mnt/my cgroups');
  });

  it('returns nothing for a host without cgroups', () => {
    expect(parseCgroupLayout('')).toEqual({ v1: {}, unified: null });
  });
});

describe('limitSettings', () => {
  const v1 = parseCgroupLayout(HYBRID);
  const v2 = parseCgroupLayout(UNIFIED);

  it('renders v1 keys, memsw as memory plus swap after the memory limit', () => {
    const plan = limitSettings(
      { memoryMb: 64, swapMb: 32, cpus: 2, cpuLimitPercent: 50, iops: 100, network: 'isolated' },
      v1,
      '254:0',
    );
    expect(plan.settings.map((s) => `${configKey(s)} = ${s.value}`)).toEqual([
      `lxc.cgroup.memory.limit_in_bytes = ${64 * MIB}`,
      `lxc.cgroup.memory.memsw.limit_in_bytes = ${96 * MIB}`,
      'lxc.cgroup.cpu.cfs_period_us = 100000',
      'lxc.cgroup.cpu.cfs_quota_us = 50000',
      'lxc.cgroup.blkio.throttle.read_iops_device = 254:0 100',
      'lxc.cgroup.blkio.throttle.write_iops_device = 254:0 100',
    ]);
    expect(plan.skipped).toEqual([]);
  });

  it('renders v2 keys', () => {
    const plan = limitSettings(
      { memoryMb: 64, swapMb: 0, cpus: 1.5, iops: 10, network: 'none' },
      v2,
      '8:0',
    );
    expect(plan.settings.map((s) => `${configKey(s)} = ${s.value}`)).toEqual([
      `lxc.cgroup2.memory.max = ${64 * MIB}`,
      'lxc.cgroup2.memory.swap.max = 0',
      'lxc.cgroup2.cpu.max = 150000 100000',
      'lxc.cgroup2.io.max = 8:0 riops=10 wiops=10',
    ]);
  });

  it('takes the tighter of cpus and cpuLimitPercent, never under 1 ms', () => {
    const tight = limitSettings({ cpus: 1, cpuLimitPercent: 300, network: 'none' }, v2, null);
    expect(tight.settings[0].value).toBe('100000 100000');
    const tiny = limitSettings({ cpuLimitPercent: 0.1, network: 'none' }, v2, null);
    expect(tiny.settings[0].value).toBe('1000 100000');
  });

  it('skips iops without a block device and diskMb always, saying why', () => {
    const plan = limitSettings({ iops: 100, diskMb: 1024, network: 'shared' }, v1, null);
    expect(plan.settings).toEqual([]);
    expect(plan.skipped).toEqual([
      'iops: no block device known for the lxc path',
      'diskMb: the overlay backing store has no size quota',
    ]);
  });

  it('sets nothing when no limit is asked for, and treats iops 0 as unlimited', () => {
    expect(limitSettings({ iops: 0, network: 'none' }, v1, '8:0')).toEqual({
      settings: [],
      skipped: [],
    });
  });

  it('cannot bound swap alone on v1', () => {
    const plan = limitSettings({ swapMb: 10, network: 'none' }, v1, null);
    expect(plan.settings).toEqual([]);
    expect(plan.skipped[0]).toMatch(/swapMb/);
  });

  it('reports a host without any cgroup hierarchy', () => {
    const none: CgroupLayout = { v1: {}, unified: null };
    expect(limitSettings({ memoryMb: 1, network: 'none' }, none, null).skipped).toEqual([
      'memory: no memory cgroup on this host',
    ]);
  });
});

describe('settingApplied', () => {
  it('compares plain values exactly', () => {
    const s = { version: 'v1' as const, file: 'memory.limit_in_bytes', value: String(64 * MIB) };
    expect(settingApplied(s, `${64 * MIB}\n`)).toBe(true);
    expect(settingApplied(s, '9223372036854771712\n')).toBe(false);
    expect(settingApplied(s, '')).toBe(false);
  });

  it('compares cpu.max word by word', () => {
    const s = { version: 'v2' as const, file: 'cpu.max', value: '50000 100000' };
    expect(settingApplied(s, '50000 100000\n')).toBe(true);
    expect(settingApplied(s, 'max 100000\n')).toBe(false);
  });

  it('finds the device line among blkio throttles', () => {
    const s = {
      version: 'v1' as const,
      file: 'blkio.throttle.read_iops_device',
      value: '254:0 100',
    };
    expect(settingApplied(s, '8:0 5\n254:0 100\n')).toBe(true);
    expect(settingApplied(s, '254:0 1000\n')).toBe(false);
  });

  it('accepts io.max lines that carry extra keys', () => {
    const s = { version: 'v2' as const, file: 'io.max', value: '8:0 riops=10 wiops=10' };
    expect(settingApplied(s, '8:0 rbps=max wbps=max riops=10 wiops=10\n')).toBe(true);
    expect(settingApplied(s, '8:0 rbps=max wbps=max riops=10 wiops=max\n')).toBe(false);
    expect(settingApplied(s, '8:16 riops=10 wiops=10\n')).toBe(false);
  });
});

describe('parseBlockDevice', () => {
  it('accepts major:minor of a real device only', () => {
    expect(parseBlockDevice('254:0\n')).toBe('254:0');
    expect(parseBlockDevice(' 8:16 ')).toBe('8:16');
    expect(parseBlockDevice('0:45')).toBeNull();
    expect(parseBlockDevice('254:0 extra')).toBeNull();
    expect(parseBlockDevice('')).toBeNull();
  });
});

describe('resourcesProblem', () => {
  it('accepts sensible limits, absent ones and nulls from the database', () => {
    expect(
      resourcesProblem({ memoryMb: 64, swapMb: 0, cpus: 0.5, iops: 0, network: 'none' }),
    ).toBeNull();
    expect(resourcesProblem({ network: 'isolated' })).toBeNull();
    expect(resourcesProblem({ memoryMb: null, network: 'none' } as never)).toBeNull();
  });

  it('rejects zero or negative sizes and fractions of a MiB', () => {
    expect(resourcesProblem({ memoryMb: 0, network: 'none' })).toMatch(/memoryMb must be positive/);
    expect(resourcesProblem({ cpus: -1, network: 'none' })).toMatch(/cpus must be positive/);
    expect(resourcesProblem({ swapMb: -1, network: 'none' })).toMatch(
      /swapMb must be zero or more/,
    );
    expect(resourcesProblem({ memoryMb: 64.5, network: 'none' })).toMatch(/whole number/);
    expect(resourcesProblem({ iops: Number.NaN, network: 'none' })).toMatch(/must be a number/);
    expect(resourcesProblem({ memoryMb: '64' as never, network: 'none' })).toMatch(
      /must be a number/,
    );
  });
});
