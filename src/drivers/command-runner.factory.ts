import { isIPv4, isIPv6 } from 'node:net';
import { CommandRunner } from './command-runner';
import { LocalCommandRunner } from './local-command-runner';
import { parseSshOptions, SshCommandRunner } from './ssh-command-runner';

export type HostAddress =
  | { kind: 'local' }
  /** host is a lower-case hostname, an IPv4 address or a bare IPv6 address (no brackets). */
  | { kind: 'ssh'; user: string; host: string; port: number };

/** A host `address` that is neither 'local' nor a well-formed ssh://user@host[:port]. */
export class InvalidHostAddressError extends Error {
  constructor(reason: string) {
    super(`invalid host address: ${reason} (expected 'local' or 'ssh://user@host[:port]')`);
    this.name = 'InvalidHostAddressError';
  }
}

const DEFAULT_SSH_PORT = 22;
const SSH_ADDRESS = /^ssh:\/\/([^@/?#\s]+)@(\[[^\]/?#\s]*\]|[^:@/?#\s[\]]+)(?::([^/?#\s]*))?$/;
const USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const HOST_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const PORT = /^[1-9][0-9]{0,4}$/;

function isHostname(host: string): boolean {
  if (host.length > 253) return false;
  const labels = host.split('.');
  if (!labels.every((label) => HOST_LABEL.test(label))) return false;
  // An all-numeric last label would be read as a (short-form) IPv4 address by the resolver.
  return !/^[0-9]+$/.test(labels[labels.length - 1]);
}

/** IPv4 in dotted-quad form only: inet_aton would also take `10.1`, `0x7f.1` or `010.0.0.1`. */
function isStrictIPv4(host: string): boolean {
  return isIPv4(host) && host.split('.').every((part) => part === '0' || !part.startsWith('0'));
}

/**
 * Parses a host's `address`. Strict, because the admin API validates with it and the
 * parts end up in ssh's argv: nothing that could read as an option or a second host.
 */
export function parseHostAddress(address: string): HostAddress {
  if (address === 'local') return { kind: 'local' };
  if (!address.startsWith('ssh://')) throw new InvalidHostAddressError('unknown scheme');
  const match = SSH_ADDRESS.exec(address);
  if (!match) throw new InvalidHostAddressError('not of the form ssh://user@host[:port]');
  const [, user, rawHost, rawPort] = match;

  if (!USER.test(user)) {
    throw new InvalidHostAddressError('user must match ^[a-z_][a-z0-9_-]{0,31}$');
  }

  let host: string;
  if (rawHost.startsWith('[')) {
    host = rawHost.slice(1, -1).toLowerCase();
    // Zone ids (fe80::1%eth0) are local to one machine's interfaces: not an address to store.
    if (!isIPv6(host) || host.includes('%')) {
      throw new InvalidHostAddressError('bracketed host must be an IPv6 address');
    }
  } else {
    host = rawHost.toLowerCase();
    if (!isStrictIPv4(host) && !isHostname(host)) {
      throw new InvalidHostAddressError('host must be a hostname, an IPv4 address or [IPv6]');
    }
  }

  let port = DEFAULT_SSH_PORT;
  if (rawPort !== undefined) {
    port = Number(rawPort);
    if (!PORT.test(rawPort) || port > 65535) {
      throw new InvalidHostAddressError('port must be a number from 1 to 65535');
    }
  }
  return { kind: 'ssh', user, host, port };
}

/**
 * The runner for a host: 'local' runs here, 'ssh://…' through the system ssh client with
 * the SSH settings from the host's options (see SshOptions). Throws on anything else.
 */
export function createCommandRunner(
  address: string,
  options: Record<string, unknown>,
): CommandRunner {
  const parsed = parseHostAddress(address);
  if (parsed.kind === 'local') return new LocalCommandRunner();
  const { user, host, port } = parsed;
  return new SshCommandRunner({ user, host, port }, parseSshOptions(options));
}
