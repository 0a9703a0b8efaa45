import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { parseCgroupLayout } from '../../src/drivers/lxc/cgroup';
import { nftTableName } from '../../src/drivers/lxc/lxc-network';

/**
 * The test's own look at an LXC host, independent of the driver: what `lxc-ls`, `lxc-info`
 * and `lxc-cgroup` say is what is really there.
 */
export function host$(argv: string[]): string {
  return execFileSync(argv[0], argv.slice(1), {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function tryHost$(argv: string[]): void {
  try {
    host$(argv);
  } catch {
    // cleanup of something that is already gone
  }
}

/** Every container under `lxcPath` (clones and goldens). */
export function lxcLs(lxcPath: string): string[] {
  return host$(['lxc-ls', '-P', lxcPath, '-1'])
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

export interface LxcInfo {
  state: string;
  ips: string[];
}

export function lxcInfo(lxcPath: string, name: string): LxcInfo {
  const text = host$(['lxc-info', '-P', lxcPath, '-n', name, '-s', '-i']);
  const info: LxcInfo = { state: '', ips: [] };
  for (const line of text.split('\n')) {
    const match = /^(State|IP):\s*(\S+)/.exec(line.trim());
    if (match?.[1] === 'State') info.state = match[2];
    else if (match) info.ips.push(match[2]);
  }
  return info;
}

/** The rootfs line of a clone's config: `overlay:<golden rootfs>:<delta>` for a copy-on-write clone. */
export function rootfsOf(lxcPath: string, name: string): string {
  const config = readFileSync(`${lxcPath}/${name}/config`, 'utf8');
  return /^\s*lxc\.rootfs\.path\s*=\s*(.*)$/m.exec(config)?.[1].trim() ?? '';
}

/** A cgroup file of a running container, read on the host through lxc-cgroup. */
export function lxcCgroup(lxcPath: string, name: string, file: string): string {
  return host$(['lxc-cgroup', '-P', lxcPath, '-n', name, file]).trim();
}

/** The memory controller's files on this host: v1 when memory is bound to a v1 hierarchy. */
export function memoryFiles(): { limit: string; swapLimit: string | null; events: string } {
  const layout = parseCgroupLayout(readFileSync('/proc/self/mountinfo', 'utf8'));
  return layout.v1.memory
    ? {
        limit: 'memory.limit_in_bytes',
        swapLimit: 'memory.memsw.limit_in_bytes',
        events: 'memory.oom_control',
      }
    : { limit: 'memory.max', swapLimit: 'memory.swap.max', events: 'memory.events' };
}

/** The read IOPS limit on `disk` ("major:minor") in force for a running container, or null. */
export function readIopsLimit(lxcPath: string, name: string, disk: string): number | null {
  const layout = parseCgroupLayout(readFileSync('/proc/self/mountinfo', 'utf8'));
  if (layout.v1.blkio) {
    const lines = lxcCgroup(lxcPath, name, 'blkio.throttle.read_iops_device').split('\n');
    const line = lines.find((l) => l.startsWith(`${disk} `));
    return line ? Number(line.split(' ')[1]) : null;
  }
  const line = lxcCgroup(lxcPath, name, 'io.max')
    .split('\n')
    .find((l) => l.startsWith(`${disk} `));
  const riops = line ? /riops=(\d+)/.exec(line)?.[1] : undefined;
  return riops ? Number(riops) : null;
}

/**
 * The block device holding `dir` as the API takes it (a /dev path) and the whole disk's
 * major:minor that throttling must name; null when `dir` is on no block device (overlay, tmpfs).
 */
export function diskUnder(dir: string): { path: string; disk: string } | null {
  const [source, device] = host$(['findmnt', '-n', '-o', 'SOURCE,MAJ:MIN', '--target', dir])
    .trim()
    .split(/\s+/);
  // Only a plain device path (not `/dev/sda2[/@]`, a btrfs subvolume) is what the API takes.
  if (!/^\/dev\/[A-Za-z0-9._/-]+$/.test(source ?? '') || !/^[1-9]\d*:\d+$/.test(device ?? '')) {
    return null;
  }
  // A partition's parent directory in sysfs is its disk.
  const disk = existsSync(`/sys/dev/block/${device}/partition`)
    ? readFileSync(`/sys/dev/block/${device}/../dev`, 'utf8').trim()
    : device;
  return { path: source, disk };
}

/**
 * Last resort: destroy by hand what a test left under `lxcPath` (clones before the goldens
 * they are cloned from), then the bridge, its nft tables and the directory.
 */
export function removeLxcLeftovers(lxcPath: string, bridge: string): void {
  let names: string[] = [];
  try {
    names = lxcLs(lxcPath);
  } catch {
    // no such path
  }
  const clones = names.filter((n) => !n.startsWith('wpt-'));
  const goldens = names.filter((n) => n.startsWith('wpt-'));
  for (const name of [...clones, ...goldens]) {
    tryHost$(['lxc-destroy', '-P', lxcPath, '-n', name, '-f']);
  }
  tryHost$(['ip', 'link', 'del', bridge]);
  tryHost$(['nft', 'delete', 'table', 'ip', nftTableName(bridge)]);
  tryHost$(['nft', 'delete', 'table', 'bridge', nftTableName(bridge)]);
  rmSync(lxcPath, { recursive: true, force: true });
}
