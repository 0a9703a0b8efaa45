import { createHash } from 'node:crypto';
import type { HostTarget, NetworkMode } from '../container-driver';

/** Prefix of the host end of an `isolated` container's veth; the bridge filter keys on it. */
export const ISOLATED_VETH_PREFIX = 'wpi';
export const SHARED_VETH_PREFIX = 'wps';
/** Linux caps interface names at 15 characters (IFNAMSIZ - 1). */
export const MAX_IFNAME = 15;

/** nft tables are named after the bridge, so no '-' (the admin API validates with this too). */
export const BRIDGE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,14}$/;

function shortHash(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

export function parseIpv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part) || Number(part) > 255) return null;
    value = value * 256 + Number(part);
  }
  return value;
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

export interface Ipv4Subnet {
  network: number;
  prefixLength: number;
  cidr: string;
}

export function parseCidr(text: string): Ipv4Subnet | null {
  const match = /^([0-9.]+)\/(\d{1,2})$/.exec(text);
  if (!match) return null;
  const address = parseIpv4(match[1]);
  const prefixLength = Number(match[2]);
  if (address === null || prefixLength > 32) return null;
  const size = 2 ** (32 - prefixLength);
  const network = address - (address % size);
  if (network !== address) return null;
  return { network, prefixLength, cidr: `${formatIpv4(network)}/${prefixLength}` };
}

/** The broadcast address of the subnet (LXC computes a wrong one when it is left out). */
export function broadcastAddress(subnet: Ipv4Subnet): string {
  return formatIpv4(subnet.network + 2 ** (32 - subnet.prefixLength) - 1);
}

export function inSubnet(address: number, subnet: Ipv4Subnet): boolean {
  const size = 2 ** (32 - subnet.prefixLength);
  return address >= subnet.network && address < subnet.network + size;
}

export interface HostNetwork {
  bridge: string;
  subnet: Ipv4Subnet;
  gateway: string;
  prefixLength: number;
}

/**
 * The host's container network, checked before any of it reaches a command line. Throws a
 * plain Error naming the bad field; the driver turns it into a non-retryable DriverError.
 */
export function hostNetwork(host: HostTarget): HostNetwork {
  const subnet = parseCidr(host.subnet);
  if (!subnet) throw new Error(`host ${host.name}: subnet "${host.subnet}" is not an IPv4 CIDR`);
  if (subnet.prefixLength < 8 || subnet.prefixLength > 30) {
    throw new Error(`host ${host.name}: subnet prefix must be between /8 and /30`);
  }
  if (host.prefixLength !== subnet.prefixLength) {
    throw new Error(
      `host ${host.name}: prefixLength ${host.prefixLength} does not match ${host.subnet}`,
    );
  }
  const gateway = parseIpv4(host.gateway);
  if (gateway === null || !inSubnet(gateway, subnet) || gateway === subnet.network) {
    throw new Error(
      `host ${host.name}: gateway "${host.gateway}" is not a host address of ${host.subnet}`,
    );
  }
  return {
    bridge: bridgeName(host),
    subnet,
    gateway: host.gateway,
    prefixLength: subnet.prefixLength,
  };
}

/** `options.bridge` when given, else `wpbr` + a hash of the host name: one bridge per host. */
export function bridgeName(host: Pick<HostTarget, 'name' | 'options'>): string {
  const configured = host.options.bridge;
  if (configured !== undefined) {
    if (typeof configured !== 'string' || !BRIDGE_NAME.test(configured)) {
      throw new Error(`host ${host.name}: options.bridge must match ${BRIDGE_NAME}`);
    }
    return configured;
  }
  return `wpbr${shortHash(host.name, 8)}`;
}

/**
 * The host end of a container's veth, derived from its name so start/reset can find it again.
 * The prefix encodes the mode: the bridge filter drops every frame to or from a `wpi` port.
 */
export function vethName(containerName: string, mode: Exclude<NetworkMode, 'none'>): string {
  const prefix = mode === 'isolated' ? ISOLATED_VETH_PREFIX : SHARED_VETH_PREFIX;
  return `${prefix}${shortHash(containerName, MAX_IFNAME - prefix.length - 1)}`;
}

/** The container's address on the host's subnet, checked; null with network 'none'. */
export function containerAddress(
  name: string,
  ip: string | null,
  mode: NetworkMode,
  net: HostNetwork,
): string | null {
  if (mode === 'none') return null;
  const address = ip === null ? null : parseIpv4(ip);
  if (address === null)
    throw new Error(`${name}: network ${mode} needs an IPv4 address, got ${ip}`);
  const size = 2 ** (32 - net.prefixLength);
  if (
    !inSubnet(address, net.subnet) ||
    address === net.subnet.network ||
    address === net.subnet.network + size - 1 ||
    ip === net.gateway
  ) {
    throw new Error(`${name}: ${ip} is not a free host address of ${net.subnet.cidr}`);
  }
  return ip;
}

/** nft tables are named after the bridge; identifiers may not contain '-'. */
export function nftTableName(bridge: string): string {
  return `warmpool_${bridge}`;
}

/**
 * One nft transaction (idempotent: each table is declared, deleted and recreated) that gives
 * the bridge NAT out and keeps containers apart:
 * - bridge forward: nothing is bridged to or from an isolated port, so an isolated container
 *   reaches neither an isolated nor a shared one (bridge-port isolation alone would still let
 *   it talk to every non-isolated port);
 * - bridge output: the host never sends a container a packet from another container's
 *   address, so routing a neighbour via the gateway does not get around the rule above. This
 *   sits on the bridge, not in ip forward, because with br_netfilter (bridge-nf-call-iptables)
 *   bridged traffic between shared containers also passes ip forward and would be dropped;
 * - ip input: containers reach the gateway for ping and DNS only, never the control plane's
 *   services (database, Redis, sshd) listening on the host.
 */
export function nftRuleset(net: HostNetwork): string {
  const table = nftTableName(net.bridge);
  const br = `"${net.bridge}"`;
  const subnet = net.subnet.cidr;
  return [
    `table ip ${table}`,
    `delete table ip ${table}`,
    `table ip ${table} {`,
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    `    ip saddr ${subnet} ip daddr != ${subnet} masquerade`,
    '  }',
    '  chain input {',
    '    type filter hook input priority filter; policy accept;',
    `    iifname ${br} ct state established,related accept`,
    `    iifname ${br} ip protocol icmp accept`,
    `    iifname ${br} meta l4proto { tcp, udp } th dport 53 accept`,
    `    iifname ${br} drop`,
    '  }',
    '}',
    `table bridge ${table}`,
    `delete table bridge ${table}`,
    `table bridge ${table} {`,
    '  chain forward {',
    '    type filter hook forward priority filter; policy accept;',
    `    iifname "${ISOLATED_VETH_PREFIX}*" drop`,
    `    oifname "${ISOLATED_VETH_PREFIX}*" drop`,
    '  }',
    '  chain output {',
    '    type filter hook output priority filter; policy accept;',
    `    ip saddr ${subnet} ip saddr != ${net.gateway} drop`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/**
 * Checks `bridge -j -d link show dev <veth>`: the port must hang off our bridge, isolated
 * exactly when the mode says so. Returns the problem, or null when all is well.
 */
export function bridgePortProblem(
  json: string,
  veth: string,
  bridge: string,
  mode: Exclude<NetworkMode, 'none'>,
): string | null {
  let ports: unknown;
  try {
    ports = JSON.parse(json);
  } catch {
    return `cannot parse the bridge port of ${veth}`;
  }
  const port = Array.isArray(ports) ? (ports[0] as Record<string, unknown> | undefined) : undefined;
  if (!port) return `${veth} is not a bridge port`;
  if (port.master !== bridge) return `${veth} is attached to ${String(port.master)}, not ${bridge}`;
  const isolated = port.isolated === true;
  if (isolated !== (mode === 'isolated')) {
    return `${veth} port isolation is ${isolated ? 'on' : 'off'} for network ${mode}`;
  }
  return null;
}
