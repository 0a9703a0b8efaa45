import { CONTAINER_PREFIX, NetworkMode } from '../container-driver';

/** Root inside is this uid/gid outside: untrusted builds get root, the host sees nobody. */
export const MAPPED_ROOT_ID = 100_000;
export const MAPPED_ID_COUNT = 65_536;
export const GOLDEN_PREFIX = 'wpt-';
export const DEFAULT_LXC_PATH = '/var/lib/lxc';
/** Written beside a golden's config once setup has finished; its absence means "half built". */
export const GOLDEN_COMPLETE_MARKER = 'warmpool-golden.complete';
const LXC_SHARED_CONFIG = '/usr/share/lxc/config';

const CONTAINER_NAME = /^wp-[A-Za-z0-9][A-Za-z0-9_.-]{0,59}$/;
const GOLDEN_NAME = /^wpt-[A-Za-z0-9][A-Za-z0-9_.-]{0,59}$/;
const TEMPLATE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,40}$/;
const LXC_PATH = /^\/[A-Za-z0-9_.\-/]*$/;
const LXC_TEMPLATE = /^[a-z0-9][a-z0-9_-]{0,40}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MANAGED_MARK = '# warmpool: managed settings below';

export function isContainerName(name: string): boolean {
  return CONTAINER_NAME.test(name) && name.startsWith(CONTAINER_PREFIX) && !name.includes('..');
}

export function isGoldenName(name: string): boolean {
  return GOLDEN_NAME.test(name) && !name.includes('..');
}

export function isEnvName(name: string): boolean {
  return ENV_NAME.test(name);
}

/** `wpt-<name>-v<version>`: never starts with `wp-`, so orphan cleanup cannot take a golden. */
export function goldenName(name: string, version: number): string {
  if (!TEMPLATE_NAME.test(name))
    throw new Error(`template name "${name}" must match ${TEMPLATE_NAME}`);
  if (!Number.isInteger(version) || version < 0) {
    throw new Error(`template version must be a non-negative integer, got ${version}`);
  }
  return `${GOLDEN_PREFIX}${name}-v${version}`;
}

export function lxcPathOption(options: Record<string, unknown>): string {
  const value = options.lxcPath ?? DEFAULT_LXC_PATH;
  if (
    typeof value !== 'string' ||
    !LXC_PATH.test(value) ||
    value.split('/').some((segment) => segment === '..' || segment === '.')
  ) {
    throw new Error('options.lxcPath must be an absolute path without "." or ".." segments');
  }
  return value.length > 1 ? value.replace(/\/+$/, '') : value;
}

export type GoldenSource =
  { kind: 'template'; template: string } | { kind: 'rootfs'; path: string };

/** `{ lxcTemplate }` (default busybox) or `{ rootfs: "/abs/dir" }`. */
export function goldenSource(source: Record<string, unknown>): GoldenSource {
  if (source.rootfs !== undefined) {
    const path = source.rootfs;
    if (typeof path !== 'string' || !path.startsWith('/') || path.includes('\0')) {
      throw new Error('source.rootfs must be an absolute path');
    }
    return { kind: 'rootfs', path };
  }
  const template = source.lxcTemplate ?? 'busybox';
  if (typeof template !== 'string' || !LXC_TEMPLATE.test(template)) {
    throw new Error(`source.lxcTemplate must match ${LXC_TEMPLATE}`);
  }
  return { kind: 'template', template };
}

export function idmapLines(): string[] {
  return [
    `lxc.idmap = u 0 ${MAPPED_ROOT_ID} ${MAPPED_ID_COUNT}`,
    `lxc.idmap = g 0 ${MAPPED_ROOT_ID} ${MAPPED_ID_COUNT}`,
  ];
}

/**
 * The config a golden is created with (`lxc-create -f`). It replaces /etc/lxc/default.conf,
 * so the distribution's lxcbr0 network never applies; LXC's common and userns includes bring
 * the seccomp filter, capability drops and /sys handling for an unprivileged container.
 */
export function goldenConfig(rootfsDir: string | null, name: string): string {
  const lines = [
    `lxc.include = ${LXC_SHARED_CONFIG}/common.conf`,
    `lxc.include = ${LXC_SHARED_CONFIG}/userns.conf`,
    ...idmapLines(),
    'lxc.net.0.type = empty',
  ];
  if (rootfsDir !== null) {
    // Without a template nothing else sets these; a template writes its own.
    lines.push(`lxc.rootfs.path = dir:${rootfsDir}`, `lxc.uts.name = ${name}`, 'lxc.autodev = 1');
  }
  return `${lines.join('\n')}\n`;
}

/**
 * rcS for busybox goldens. The template's version runs udhcpc, whose first act ("deconfig")
 * flushes the static address LXC gave eth0; warmpool assigns addresses itself, so no DHCP.
 */
export const BUSYBOX_RCS = '#!/bin/sh\n/bin/syslogd\n/bin/mount -a\n';

export interface CloneNetwork {
  mode: NetworkMode;
  bridge: string;
  veth: string;
  ip: string | null;
  prefixLength: number;
  broadcast: string;
  gateway: string;
}

export function networkLines(net: CloneNetwork): string[] {
  // 'empty' leaves the container a network namespace with loopback only; "up" brings lo up.
  if (net.mode === 'none' || net.ip === null) {
    return ['lxc.net.0.type = empty', 'lxc.net.0.flags = up'];
  }
  return [
    'lxc.net.0.type = veth',
    `lxc.net.0.link = ${net.bridge}`,
    'lxc.net.0.flags = up',
    'lxc.net.0.name = eth0',
    `lxc.net.0.veth.pair = ${net.veth}`,
    `lxc.net.0.ipv4.address = ${net.ip}/${net.prefixLength} ${net.broadcast}`,
    `lxc.net.0.ipv4.gateway = ${net.gateway}`,
  ];
}

function configKeyOf(line: string): string | null {
  const match = /^\s*(lxc\.[A-Za-z0-9_.]+)\s*=/.exec(line);
  return match ? match[1] : null;
}

/** Keys warmpool owns in a clone's config; everything else comes from the golden. */
function isManagedKey(key: string): boolean {
  if (key.startsWith('lxc.net.') || key === 'lxc.net' || key === 'lxc.idmap') return true;
  if (key.startsWith('lxc.cgroup.') || key.startsWith('lxc.cgroup2.')) {
    const rest = key.replace(/^lxc\.cgroup2?\./, '');
    return !rest.startsWith('devices.');
  }
  return false;
}

/**
 * A clone's config: the one lxc-copy wrote (rootfs, hostname, includes) minus every key
 * warmpool manages, plus the managed lines. Rendering the result again gives the same text,
 * so a retried clone rewrites the config instead of stacking duplicate keys.
 */
export function renderCloneConfig(existing: string, managed: string[]): string {
  const kept: string[] = [];
  for (const line of existing.split('\n')) {
    if (line.trim() === MANAGED_MARK) continue;
    const key = configKeyOf(line);
    if (key !== null && isManagedKey(key)) continue;
    kept.push(line);
  }
  while (kept.length > 0 && kept[kept.length - 1].trim() === '') kept.pop();
  return `${kept.join('\n')}\n\n${MANAGED_MARK}\n${managed.join('\n')}\n`;
}

/** Whether a clone's config is an overlay over this golden's rootfs. */
export function cloneUsesGolden(config: string, lxcPath: string, golden: string): boolean {
  const lower = `${lxcPath}/${golden}/rootfs:`;
  return config
    .split('\n')
    .some((line) => configKeyOf(line) === 'lxc.rootfs.path' && line.includes(`overlay:${lower}`));
}

export type LxcState =
  | 'RUNNING'
  | 'STOPPED'
  | 'STARTING'
  | 'STOPPING'
  | 'ABORTING'
  | 'FREEZING'
  | 'FROZEN'
  | 'THAWED'
  | 'missing';

export interface LxcInfo {
  state: LxcState;
  pid: number | null;
  ips: string[];
}

/** Parses `lxc-info -s -p -i -H`; a missing container is "<name> doesn't exist" with exit 1. */
export function parseLxcInfo(stdout: string, exitCode: number | null, stderr: string): LxcInfo {
  if (exitCode !== 0 && /doesn't exist|not defined/.test(`${stdout}\n${stderr}`)) {
    return { state: 'missing', pid: null, ips: [] };
  }
  let state: LxcState | null = null;
  let pid: number | null = null;
  const ips: string[] = [];
  for (const line of stdout.split('\n')) {
    const match = /^(State|PID|IP):\s*(\S+)/.exec(line.trim());
    if (!match) continue;
    if (match[1] === 'State') state = match[2] as LxcState;
    else if (match[1] === 'PID') pid = Number(match[2]);
    else ips.push(match[2]);
  }
  if (exitCode !== 0 || state === null) {
    throw new Error(`lxc-info failed (${exitCode}): ${(stderr || stdout).trim().slice(-300)}`);
  }
  return { state, pid, ips };
}

/** Whether /etc/subuid (or subgid) already gives `user` the range [start, start + count). */
export function hasSubordinateRange(
  text: string,
  user: string,
  start: number,
  count: number,
): boolean {
  return text.split('\n').some((line) => {
    const [owner, first, size] = line.trim().split(':');
    if (owner !== user) return false;
    const from = Number(first);
    const length = Number(size);
    return from <= start && from + length >= start + count;
  });
}

/** The last `max` characters of a command's output, for error messages. */
export function tail(text: string, max = 400): string {
  const trimmed = text.trim();
  return trimmed.length > max ? `…${trimmed.slice(-max)}` : trimmed;
}
