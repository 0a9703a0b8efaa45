/**
 * IPv4 subnet arithmetic for container addresses (pure). The first usable address of a
 * host's subnet is its gateway on the container bridge; containers get the others.
 */
export interface Subnet {
  network: number;
  prefixLength: number;
  /** The CIDR in canonical form, e.g. 10.88.0.0/22. */
  cidr: string;
}

export function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) throw new Error(`not an IPv4 address: ${ip}`);
  return parts.reduce((acc, part) => {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255)
      throw new Error(`not an IPv4 address: ${ip}`);
    return acc * 256 + Number(part);
  }, 0);
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function parseSubnet(cidr: string): Subnet {
  const match = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(cidr.trim());
  if (!match) throw new Error(`not an IPv4 CIDR: ${cidr}`);
  const prefixLength = Number(match[2]);
  if (prefixLength < 8 || prefixLength > 29) {
    throw new Error(`subnet prefix must be between /8 and /29: ${cidr}`);
  }
  const size = 2 ** (32 - prefixLength);
  const network = ipToInt(match[1]) - (ipToInt(match[1]) % size);
  return { network, prefixLength, cidr: `${intToIp(network)}/${prefixLength}` };
}

export function subnetSize(subnet: Subnet): number {
  return 2 ** (32 - subnet.prefixLength);
}

export function gatewayOf(subnet: Subnet): string {
  return intToIp(subnet.network + 1);
}

/** Addresses containers may get: after the gateway, before the broadcast address. */
export function containerAddressCount(subnet: Subnet): number {
  return subnetSize(subnet) - 3;
}

/**
 * The lowest addresses not in `used`, at most `count` of them. Lowest-first keeps
 * allocation deterministic, so a replica restart re-derives the same free set from the table.
 */
export function freeAddresses(subnet: Subnet, used: Iterable<string>, count: number): string[] {
  const taken = new Set<number>();
  for (const ip of used) taken.add(ipToInt(ip.replace(/\/32$/, '')));
  const result: string[] = [];
  const last = subnet.network + subnetSize(subnet) - 2;
  for (let n = subnet.network + 2; n <= last && result.length < count; n++) {
    if (!taken.has(n)) result.push(intToIp(n));
  }
  return result;
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  const aEnd = a.network + subnetSize(a);
  const bEnd = b.network + subnetSize(b);
  return a.network < bEnd && b.network < aEnd;
}

/** The first /22 of 10.88.0.0/16 that overlaps no existing host's subnet. */
export function defaultSubnet(existing: Iterable<string>): string {
  const taken = [...existing].map(parseSubnet);
  for (let third = 0; third < 256; third += 4) {
    const candidate = parseSubnet(`10.88.${third}.0/22`);
    if (!taken.some((t) => overlaps(t, candidate))) return candidate.cidr;
  }
  throw new Error('no free /22 left in 10.88.0.0/16; give the host a subnet');
}
