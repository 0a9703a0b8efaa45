import {
  cloneUsesGolden,
  goldenConfig,
  goldenName,
  goldenSource,
  hasSubordinateRange,
  idmapLines,
  isContainerName,
  isEnvName,
  isGoldenName,
  lxcPathOption,
  networkLines,
  parseLxcInfo,
  renderCloneConfig,
} from '../../src/drivers/lxc/lxc-config';

// What lxc-copy -s -B overlay leaves for a clone of a busybox golden.
const COPIED = `lxc.include = /usr/share/lxc/config/common.conf
lxc.include = /usr/share/lxc/config/userns.conf
lxc.idmap = u 0 100000 65536
lxc.idmap = g 0 100000 65536
lxc.net.0.type = empty
lxc.signal.halt = SIGUSR1
lxc.autodev = 1
lxc.cgroup.devices.allow = c 10:200 rwm
lxc.mount.auto = cgroup:mixed proc:mixed sys:ro
lxc.rootfs.path = overlay:/var/lib/lxc/wpt-busybox-v1/rootfs:/var/lib/lxc/wp-a/overlay/delta
lxc.uts.name = wp-a
`;

describe('names', () => {
  it('names goldens wpt-<name>-v<version>, which orphan cleanup (wp-) never matches', () => {
    const name = goldenName('busybox', 3);
    expect(name).toBe('wpt-busybox-v3');
    expect(name.startsWith('wp-')).toBe(false);
    expect(isGoldenName(name)).toBe(true);
    expect(isContainerName(name)).toBe(false);
  });

  it('rejects template names and versions that could escape a path or a command', () => {
    expect(() => goldenName('../etc', 1)).toThrow();
    expect(() => goldenName('a b', 1)).toThrow();
    expect(() => goldenName('ok', -1)).toThrow();
    expect(() => goldenName('ok', 1.5)).toThrow();
  });

  it('accepts only wp- container names without path tricks', () => {
    expect(isContainerName('wp-default-0001')).toBe(true);
    expect(isContainerName('wp-a..b')).toBe(false);
    expect(isContainerName('wp-a/b')).toBe(false);
    expect(isContainerName('-wp-a')).toBe(false);
    expect(isContainerName('wpt-x-v1')).toBe(false);
    expect(isContainerName(`wp-${'a'.repeat(70)}`)).toBe(false);
  });

  it('accepts POSIX-like environment names only', () => {
    expect(isEnvName('CI_JOB_ID')).toBe(true);
    expect(isEnvName('_x1')).toBe(true);
    expect(isEnvName('1X')).toBe(false);
    expect(isEnvName('A=B')).toBe(false);
    expect(isEnvName('')).toBe(false);
  });
});

describe('options and sources', () => {
  it('defaults lxcPath and rejects relative or dotted paths', () => {
    expect(lxcPathOption({})).toBe('/var/lib/lxc');
    expect(lxcPathOption({ lxcPath: '/srv/lxc/' })).toBe('/srv/lxc');
    expect(() => lxcPathOption({ lxcPath: 'lxc' })).toThrow();
    expect(() => lxcPathOption({ lxcPath: '/srv/../etc' })).toThrow();
    expect(() => lxcPathOption({ lxcPath: '/srv/lxc x' })).toThrow();
    expect(() => lxcPathOption({ lxcPath: 5 })).toThrow();
  });

  it('reads a template or a rootfs source', () => {
    expect(goldenSource({})).toEqual({ kind: 'template', template: 'busybox' });
    expect(goldenSource({ lxcTemplate: 'debian' })).toEqual({
      kind: 'template',
      template: 'debian',
    });
    expect(goldenSource({ rootfs: '/srv/rootfs' })).toEqual({
      kind: 'rootfs',
      path: '/srv/rootfs',
    });
    expect(() => goldenSource({ lxcTemplate: '--help' })).toThrow();
    expect(() => goldenSource({ rootfs: 'relative' })).toThrow();
  });
});

describe('goldenConfig', () => {
  it('maps ids and has no network, whatever /etc/lxc/default.conf says', () => {
    const config = goldenConfig(null, 'wpt-a-v1');
    expect(config).toContain('lxc.idmap = u 0 100000 65536\n');
    expect(config).toContain('lxc.idmap = g 0 100000 65536\n');
    expect(config).toContain('lxc.net.0.type = empty\n');
    expect(config).not.toContain('lxc.rootfs.path');
  });

  it('points a template-less golden at its rootfs directory', () => {
    expect(goldenConfig('/var/lib/lxc/wpt-a-v1/rootfs', 'wpt-a-v1')).toContain(
      'lxc.rootfs.path = dir:/var/lib/lxc/wpt-a-v1/rootfs\n',
    );
  });
});

describe('networkLines', () => {
  const base = {
    bridge: 'wpbr0',
    veth: 'wpi0123456789a',
    prefixLength: 24,
    broadcast: '10.231.0.255',
    gateway: '10.231.0.1',
  };

  it('puts a bridged container on a named veth with a static address and route', () => {
    expect(networkLines({ ...base, mode: 'isolated', ip: '10.231.0.5' })).toEqual([
      'lxc.net.0.type = veth',
      'lxc.net.0.link = wpbr0',
      'lxc.net.0.flags = up',
      'lxc.net.0.name = eth0',
      'lxc.net.0.veth.pair = wpi0123456789a',
      'lxc.net.0.ipv4.address = 10.231.0.5/24 10.231.0.255',
      'lxc.net.0.ipv4.gateway = 10.231.0.1',
    ]);
  });

  it('gives network none a loopback-only namespace, loopback up', () => {
    expect(networkLines({ ...base, mode: 'none', ip: null })).toEqual([
      'lxc.net.0.type = empty',
      'lxc.net.0.flags = up',
    ]);
  });
});

describe('renderCloneConfig', () => {
  const managed = [
    ...idmapLines(),
    'lxc.net.0.type = veth',
    'lxc.net.0.link = wpbr0',
    'lxc.cgroup.memory.limit_in_bytes = 67108864',
  ];

  it('replaces network, idmap and limits and keeps the rest', () => {
    const out = renderCloneConfig(COPIED, managed);
    expect(out.match(/^lxc\.idmap/gm)).toHaveLength(2);
    expect(out.match(/^lxc\.net\.0\.type/gm)).toEqual(['lxc.net.0.type']);
    expect(out).toContain('lxc.net.0.type = veth');
    expect(out).not.toContain('lxc.net.0.type = empty');
    expect(out).toContain('lxc.cgroup.devices.allow = c 10:200 rwm');
    expect(out).toContain('lxc.rootfs.path = overlay:/var/lib/lxc/wpt-busybox-v1/rootfs:');
    expect(out).toContain('lxc.uts.name = wp-a');
    expect(out.endsWith('lxc.cgroup.memory.limit_in_bytes = 67108864\n')).toBe(true);
  });

  it('is idempotent, and drops limits that are no longer asked for', () => {
    const once = renderCloneConfig(COPIED, managed);
    expect(renderCloneConfig(once, managed)).toBe(once);
    const without = renderCloneConfig(once, managed.slice(0, 3));
    expect(without).not.toContain('memory.limit_in_bytes');
  });

  it('drops limits written for the other cgroup hierarchy', () => {
    const stale = `${COPIED}lxc.cgroup2.memory.max = 1\n`;
    expect(renderCloneConfig(stale, managed)).not.toContain('lxc.cgroup2.memory.max');
  });
});

describe('cloneUsesGolden', () => {
  it('recognises the golden from the overlay lower directory', () => {
    expect(cloneUsesGolden(COPIED, '/var/lib/lxc', 'wpt-busybox-v1')).toBe(true);
    expect(cloneUsesGolden(COPIED, '/var/lib/lxc', 'wpt-busybox-v2')).toBe(false);
    expect(cloneUsesGolden(COPIED, '/srv/lxc', 'wpt-busybox-v1')).toBe(false);
  });
});

describe('parseLxcInfo', () => {
  it('reads state, pid and addresses of a running container', () => {
    const out = 'State:          RUNNING\nPID:            10419\nIP:             10.231.0.2\n';
    expect(parseLxcInfo(out, 0, '')).toEqual({ state: 'RUNNING', pid: 10419, ips: ['10.231.0.2'] });
  });

  it('reads a stopped container', () => {
    expect(parseLxcInfo('State:          STOPPED\n', 0, '')).toEqual({
      state: 'STOPPED',
      pid: null,
      ips: [],
    });
  });

  it('reports a missing container as missing', () => {
    expect(parseLxcInfo('', 1, "wp-nope doesn't exist\n").state).toBe('missing');
  });

  it('throws on any other failure', () => {
    expect(() => parseLxcInfo('', 1, 'lxc-info: permission denied')).toThrow(/permission denied/);
  });
});

describe('hasSubordinateRange', () => {
  it('finds a covering range for the user', () => {
    expect(hasSubordinateRange('root:100000:65536\n', 'root', 100000, 65536)).toBe(true);
    expect(hasSubordinateRange('root:100000:1000000000\n', 'root', 100000, 65536)).toBe(true);
    expect(hasSubordinateRange('ci:100000:65536\n', 'root', 100000, 65536)).toBe(false);
    expect(hasSubordinateRange('root:100000:65535\n', 'root', 100000, 65536)).toBe(false);
    expect(hasSubordinateRange('', 'root', 100000, 65536)).toBe(false);
  });
});
