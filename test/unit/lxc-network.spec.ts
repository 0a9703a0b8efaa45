import type { HostTarget } from '../../src/drivers/container-driver';
import { LocalCommandRunner } from '../../src/drivers/local-command-runner';
import {
  MAX_IFNAME,
  bridgeName,
  bridgePortProblem,
  broadcastAddress,
  containerAddress,
  hostNetwork,
  nftRuleset,
  parseCidr,
  parseIpv4,
  vethName,
} from '../../src/drivers/lxc/lxc-network';

function host(overrides: Partial<HostTarget> = {}): HostTarget {
  return {
    name: 'node-1',
    address: 'local',
    options: {},
    subnet: '10.88.0.0/22',
    gateway: '10.88.0.1',
    prefixLength: 22,
    runner: new LocalCommandRunner(),
    ...overrides,
  };
}

describe('vethName', () => {
  it('fits an interface name, is stable, and encodes the mode in its prefix', () => {
    const long = `wp-${'x'.repeat(60)}`;
    const isolated = vethName(long, 'isolated');
    expect(isolated.length).toBeLessThanOrEqual(MAX_IFNAME);
    expect(isolated).toMatch(/^wpi[0-9a-f]+$/);
    expect(vethName(long, 'isolated')).toBe(isolated);
    expect(vethName(long, 'shared')).toMatch(/^wps[0-9a-f]+$/);
  });

  it('differs between containers whose names share a long prefix', () => {
    const a = vethName('wp-pool-default-0001', 'isolated');
    const b = vethName('wp-pool-default-0002', 'isolated');
    expect(a).not.toBe(b);
  });
});

describe('bridgeName', () => {
  it('derives a short, stable name per host', () => {
    const name = bridgeName(host());
    expect(name).toMatch(/^wpbr[0-9a-f]{8}$/);
    expect(name.length).toBeLessThanOrEqual(MAX_IFNAME);
    expect(bridgeName(host())).toBe(name);
    expect(bridgeName(host({ name: 'node-2' }))).not.toBe(name);
  });

  it('takes options.bridge when it is a safe interface name', () => {
    expect(bridgeName(host({ options: { bridge: 'wpbr0' } }))).toBe('wpbr0');
    expect(() => bridgeName(host({ options: { bridge: 'br0; rm -rf /' } }))).toThrow(
      /options.bridge/,
    );
    expect(() => bridgeName(host({ options: { bridge: 'a-very-long-bridge' } }))).toThrow();
  });
});

describe('addresses', () => {
  it('parses dotted quads strictly', () => {
    expect(parseIpv4('10.0.0.1')).toBe(0x0a000001);
    expect(parseIpv4('10.0.0.256')).toBeNull();
    expect(parseIpv4('10.0.0')).toBeNull();
    expect(parseIpv4('010.0.0.1')).toBeNull();
    expect(parseIpv4('1.2.3.4 ')).toBeNull();
  });

  it('computes the broadcast address', () => {
    expect(broadcastAddress(parseCidr('10.88.0.0/22')!)).toBe('10.88.3.255');
    expect(broadcastAddress(parseCidr('10.231.0.0/24')!)).toBe('10.231.0.255');
  });

  it('parses a CIDR and rejects one with host bits set', () => {
    expect(parseCidr('10.231.0.0/24')).toEqual({
      network: 0x0ae70000,
      prefixLength: 24,
      cidr: '10.231.0.0/24',
    });
    expect(parseCidr('10.231.0.1/24')).toBeNull();
    expect(parseCidr('10.231.0.0/33')).toBeNull();
    expect(parseCidr('10.231.0.0')).toBeNull();
  });

  it('checks the host network before it reaches a command', () => {
    expect(hostNetwork(host()).subnet.cidr).toBe('10.88.0.0/22');
    expect(() => hostNetwork(host({ subnet: '10.88.0.0/22; reboot' }))).toThrow(/subnet/);
    expect(() => hostNetwork(host({ prefixLength: 24 }))).toThrow(/prefixLength/);
    expect(() => hostNetwork(host({ gateway: '10.99.0.1' }))).toThrow(/gateway/);
    expect(() => hostNetwork(host({ gateway: '10.88.0.0' }))).toThrow(/gateway/);
  });

  it('accepts a container address inside the subnet that is not the gateway', () => {
    const net = hostNetwork(host());
    expect(containerAddress('wp-a', '10.88.1.7', 'isolated', net)).toBe('10.88.1.7');
    expect(containerAddress('wp-a', null, 'none', net)).toBeNull();
    expect(() => containerAddress('wp-a', null, 'shared', net)).toThrow(/needs an IPv4/);
    expect(() => containerAddress('wp-a', '10.88.0.1', 'shared', net)).toThrow();
    expect(() => containerAddress('wp-a', '10.88.3.255', 'shared', net)).toThrow();
    expect(() => containerAddress('wp-a', '10.89.0.2', 'shared', net)).toThrow();
  });
});

describe('nftRuleset', () => {
  it('is one idempotent transaction: NAT, no isolated bridging, no hairpin, no host services', () => {
    const net = hostNetwork(host({ options: { bridge: 'wpbr0' } }));
    const rules = nftRuleset(net);
    expect(rules.split('\n').slice(0, 3)).toEqual([
      'table ip warmpool_wpbr0',
      'delete table ip warmpool_wpbr0',
      'table ip warmpool_wpbr0 {',
    ]);
    expect(rules).toContain('ip saddr 10.88.0.0/22 ip daddr != 10.88.0.0/22 masquerade');
    expect(rules).toContain('ip saddr 10.88.0.0/22 ip saddr != 10.88.0.1 drop');
    expect(rules).not.toContain('oifname "wpbr0"');
    expect(rules).toContain('iifname "wpbr0" drop');
    expect(rules).toContain('iifname "wpi*" drop');
    expect(rules).toContain('oifname "wpi*" drop');
    expect(rules).toContain('delete table bridge warmpool_wpbr0');
  });
});

describe('bridgePortProblem', () => {
  const port = (fields: Record<string, unknown>) => JSON.stringify([{ ifname: 'wpi1', ...fields }]);

  it('accepts an isolated port on our bridge', () => {
    expect(
      bridgePortProblem(port({ master: 'wpbr0', isolated: true }), 'wpi1', 'wpbr0', 'isolated'),
    ).toBeNull();
    expect(
      bridgePortProblem(port({ master: 'wpbr0', isolated: false }), 'wps1', 'wpbr0', 'shared'),
    ).toBeNull();
  });

  it('names what is wrong', () => {
    expect(
      bridgePortProblem(port({ master: 'wpbr0', isolated: false }), 'wpi1', 'wpbr0', 'isolated'),
    ).toMatch(/isolation is off/);
    expect(
      bridgePortProblem(port({ master: 'lxcbr0', isolated: true }), 'wpi1', 'wpbr0', 'isolated'),
    ).toMatch(/lxcbr0/);
    expect(bridgePortProblem('[]', 'wpi1', 'wpbr0', 'isolated')).toMatch(/not a bridge port/);
    expect(bridgePortProblem('garbage', 'wpi1', 'wpbr0', 'isolated')).toMatch(/cannot parse/);
  });
});
