import {
  containerAddressCount,
  defaultSubnet,
  freeAddresses,
  gatewayOf,
  intToIp,
  ipToInt,
  overlaps,
  parseSubnet,
  subnetSize,
} from '../../src/hosts/subnet';

describe('ipToInt / intToIp', () => {
  it.each([
    ['0.0.0.0', 0],
    ['0.0.0.1', 1],
    ['10.88.0.1', 10 * 2 ** 24 + 88 * 2 ** 16 + 1],
    ['192.168.1.254', 192 * 2 ** 24 + 168 * 2 ** 16 + 256 + 254],
    ['255.255.255.255', 2 ** 32 - 1],
  ])('%s ⇄ %d', (ip, n) => {
    expect(ipToInt(ip)).toBe(n);
    expect(intToIp(n)).toBe(ip);
  });

  it.each(['10.88.0', '10.88.0.0.1', '10.88.0.256', '10.88.-1.0', '10.88.a.0', '', '10..0.1'])(
    'rejects %j',
    (ip) => {
      expect(() => ipToInt(ip)).toThrow(/not an IPv4 address/);
    },
  );
});

describe('parseSubnet', () => {
  it.each([
    ['10.88.0.0/22', '10.88.0.0/22', 22],
    ['10.88.3.77/22', '10.88.0.0/22', 22],
    ['10.88.4.1/22', '10.88.4.0/22', 22],
    ['192.168.1.200/24', '192.168.1.0/24', 24],
    ['  172.16.9.9/16  ', '172.16.0.0/16', 16],
    ['10.1.2.3/8', '10.0.0.0/8', 8],
    ['10.0.0.13/29', '10.0.0.8/29', 29],
  ])('normalises %j to %s', (input, cidr, prefixLength) => {
    const subnet = parseSubnet(input);
    expect(subnet.cidr).toBe(cidr);
    expect(subnet.prefixLength).toBe(prefixLength);
    expect(subnet.network).toBe(ipToInt(cidr.split('/')[0]));
  });

  it.each([
    ['10.88.0.0', /not an IPv4 CIDR/],
    ['10.88.0.0/', /not an IPv4 CIDR/],
    ['10.88.0/22', /not an IPv4 CIDR/],
    ['10.88.0.0/222', /not an IPv4 CIDR/],
    ['10.88.0.0/22/1', /not an IPv4 CIDR/],
    ['fd00::/64', /not an IPv4 CIDR/],
    ['garbage', /not an IPv4 CIDR/],
    ['10.88.0.0/7', /between \/8 and \/29/],
    ['10.88.0.0/30', /between \/8 and \/29/],
    ['10.88.0.0/32', /between \/8 and \/29/],
    ['10.300.0.0/22', /not an IPv4 address/],
  ])('rejects %j', (input, message) => {
    expect(() => parseSubnet(input)).toThrow(message);
  });
});

describe('sizes and gateway', () => {
  it.each([
    ['10.88.0.0/22', 1024, 1021, '10.88.0.1'],
    ['10.88.4.0/24', 256, 253, '10.88.4.1'],
    ['10.0.0.8/29', 8, 5, '10.0.0.9'],
    ['192.168.0.0/16', 65536, 65533, '192.168.0.1'],
  ])('%s: %i addresses, %i for containers, gateway %s', (cidr, size, usable, gateway) => {
    const subnet = parseSubnet(cidr);
    expect(subnetSize(subnet)).toBe(size);
    expect(containerAddressCount(subnet)).toBe(usable);
    expect(gatewayOf(subnet)).toBe(gateway);
  });

  it('puts the gateway on the first address of a non-normalised CIDR', () => {
    expect(gatewayOf(parseSubnet('10.88.2.200/22'))).toBe('10.88.0.1');
  });
});

describe('freeAddresses', () => {
  const s29 = parseSubnet('10.0.0.8/29');

  it('skips the network, the gateway and the broadcast address', () => {
    expect(freeAddresses(s29, [], 100)).toEqual([
      '10.0.0.10',
      '10.0.0.11',
      '10.0.0.12',
      '10.0.0.13',
      '10.0.0.14',
    ]);
  });

  it('returns the lowest free addresses first, at most count', () => {
    expect(freeAddresses(parseSubnet('10.88.0.0/22'), [], 3)).toEqual([
      '10.88.0.2',
      '10.88.0.3',
      '10.88.0.4',
    ]);
  });

  it('skips used addresses and fills the holes lowest first', () => {
    const used = ['10.88.0.2', '10.88.0.4', '10.88.0.5'];
    expect(freeAddresses(parseSubnet('10.88.0.0/22'), used, 3)).toEqual([
      '10.88.0.3',
      '10.88.0.6',
      '10.88.0.7',
    ]);
  });

  it('accepts used addresses in /32 form (as PostgreSQL inet prints them)', () => {
    expect(freeAddresses(s29, ['10.0.0.10/32', '10.0.0.11/32'], 1)).toEqual(['10.0.0.12']);
  });

  it('ignores used addresses outside the subnet', () => {
    expect(freeAddresses(s29, ['10.0.0.2', '10.0.1.10'], 1)).toEqual(['10.0.0.10']);
  });

  it('crosses octet boundaries', () => {
    const subnet = parseSubnet('10.88.0.0/22');
    const used = Array.from({ length: 254 }, (_, i) => `10.88.0.${i + 2}`);
    expect(freeAddresses(subnet, used, 2)).toEqual(['10.88.1.0', '10.88.1.1']);
  });

  it('never returns the broadcast address of a /22', () => {
    const subnet = parseSubnet('10.88.0.0/22');
    const all = freeAddresses(subnet, [], 5000);
    expect(all).toHaveLength(1021);
    expect(all[all.length - 1]).toBe('10.88.3.254');
    expect(all).not.toContain('10.88.3.255');
    expect(all).not.toContain('10.88.0.1');
    expect(all).not.toContain('10.88.0.0');
  });

  it('returns fewer than asked when the subnet is nearly full', () => {
    expect(freeAddresses(s29, ['10.0.0.10', '10.0.0.12', '10.0.0.14'], 5)).toEqual([
      '10.0.0.11',
      '10.0.0.13',
    ]);
  });

  it('returns nothing when the subnet is full', () => {
    const used = ['10.0.0.10', '10.0.0.11', '10.0.0.12', '10.0.0.13', '10.0.0.14'];
    expect(freeAddresses(s29, used, 1)).toEqual([]);
  });

  it('returns nothing for a count of 0', () => {
    expect(freeAddresses(s29, [], 0)).toEqual([]);
  });

  it('works for subnets above 128.0.0.0 (no sign trouble)', () => {
    expect(freeAddresses(parseSubnet('192.168.7.0/24'), ['192.168.7.2'], 2)).toEqual([
      '192.168.7.3',
      '192.168.7.4',
    ]);
  });

  it('takes any iterable of used addresses', () => {
    expect(freeAddresses(s29, new Set(['10.0.0.10']), 1)).toEqual(['10.0.0.11']);
  });
});

describe('overlaps', () => {
  it.each([
    ['10.88.0.0/22', '10.88.0.0/22', true],
    ['10.88.0.0/22', '10.88.3.0/24', true],
    ['10.88.0.0/22', '10.88.4.0/24', false],
    ['10.88.4.0/22', '10.88.3.0/24', false],
    ['10.0.0.0/8', '10.88.4.0/22', true],
    ['10.88.0.0/22', '192.168.0.0/16', false],
  ])('%s and %s: %s', (a, b, expected) => {
    expect(overlaps(parseSubnet(a), parseSubnet(b))).toBe(expected);
    expect(overlaps(parseSubnet(b), parseSubnet(a))).toBe(expected);
  });
});

describe('defaultSubnet', () => {
  it.each([
    [[], '10.88.0.0/22'],
    [['192.168.0.0/16'], '10.88.0.0/22'],
    [['10.88.0.0/22'], '10.88.4.0/22'],
    [['10.88.0.0/22', '10.88.4.0/22'], '10.88.8.0/22'],
    [['10.88.4.0/22'], '10.88.0.0/22'],
    [['10.88.2.0/24'], '10.88.4.0/22'],
    [['10.88.1.77/24'], '10.88.4.0/22'],
    [['10.88.0.0/21'], '10.88.8.0/22'],
    [['10.88.0.0/22', '10.88.5.0/29'], '10.88.8.0/22'],
  ] as [string[], string][])('with %j taken → %s', (existing, expected) => {
    expect(defaultSubnet(existing)).toBe(expected);
  });

  it('finds the last /22 of 10.88.0.0/16', () => {
    const existing = Array.from({ length: 63 }, (_, i) => `10.88.${i * 4}.0/22`);
    expect(defaultSubnet(existing)).toBe('10.88.252.0/22');
  });

  it.each([[['10.88.0.0/16']], [['10.0.0.0/8']]])('throws when %j covers it all', (existing) => {
    expect(() => defaultSubnet(existing)).toThrow(/no free \/22/);
  });

  it('throws on an invalid existing subnet', () => {
    expect(() => defaultSubnet(['not-a-cidr'])).toThrow(/not an IPv4 CIDR/);
  });
});
