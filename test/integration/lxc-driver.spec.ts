import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { ContainerSpec, HostTarget, ResourceLimits } from '../../src/drivers/container-driver';
import { DriverError } from '../../src/drivers/container-driver';
import { LocalCommandRunner } from '../../src/drivers/local-command-runner';
import { parseCgroupLayout } from '../../src/drivers/lxc/cgroup';
import { bridgeName, nftTableName } from '../../src/drivers/lxc/lxc-network';
import { LxcDriver } from '../../src/drivers/lxc/lxc.driver';
import { describeWith } from '../support/services';

const MIB = 1024 * 1024;

/** Test-side look at the host, independent of the driver. */
function host$(argv: string[]): string {
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

describeWith(['lxc'], 'LxcDriver on real unprivileged containers', () => {
  const run = randomBytes(3).toString('hex');
  const lxcPath = `/var/lib/warmpool-it-${run}`;
  const sourcePath = `${lxcPath}-source`;
  const host: HostTarget = {
    name: `lxc-it-${run}`,
    address: 'local',
    options: { lxcPath },
    subnet: '10.231.0.0/24',
    gateway: '10.231.0.1',
    prefixLength: 24,
    runner: new LocalCommandRunner(),
  };
  const bridge = bridgeName(host);
  const driver = new LxcDriver();
  const ours = (name: string) => name.includes(run);
  let golden = '';

  const name = (suffix: string) => `wp-it-${run}-${suffix}`;
  const spec = (suffix: string, ip: string | null, resources: ResourceLimits): ContainerSpec => ({
    name: name(suffix),
    golden,
    ip,
    resources,
  });
  const a = () =>
    spec('a', '10.231.0.2', { network: 'isolated', memoryMb: 64, swapMb: 0, cpuLimitPercent: 50 });
  const b = () => spec('b', '10.231.0.3', { network: 'isolated', memoryMb: 64, iops: 100 });
  const c = () => spec('c', '10.231.0.4', { network: 'shared', cpus: 1 });
  const d = () => spec('d', '10.231.0.5', { network: 'shared' });
  const e = () => spec('e', null, { network: 'none' });

  const exec = (
    container: string,
    command: string[],
    extra: { env?: Record<string, string>; stdin?: string; timeoutMs?: number } = {},
  ) =>
    driver.exec(host, container, {
      command,
      timeoutMs: extra.timeoutMs ?? 15_000,
      maxOutputBytes: 64 * 1024,
      ...extra,
    });
  const reaches = async (from: string, ip: string) =>
    (await exec(from, ['ping', '-c1', '-W1', ip])).exitCode === 0;
  const initPid = (container: string) => {
    const info = host$(['lxc-info', '-P', lxcPath, '-n', container, '-p', '-H']);
    return Number(/(\d+)/.exec(info)?.[1]);
  };
  const lxcLs = () =>
    host$(['lxc-ls', '-P', lxcPath, '-1'])
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.startsWith('wp-') || line.startsWith('wpt-'));

  beforeAll(async () => {
    await driver.prepareHost(host);
    // Idempotent: a second pass changes nothing and fails on nothing.
    await driver.prepareHost(host);
    const built = await driver.buildTemplate(host, {
      name: `it${run}`,
      version: 1,
      source: { lxcTemplate: 'busybox' },
      setup: [
        ['sh', '-c', 'echo baked > /etc/warmpool-setup'],
        ['mkdir', '-p', '/srv/from-setup'],
      ],
    });
    golden = built.ref;
  }, 180_000);

  afterAll(async () => {
    // Best effort: the last test already destroyed everything and asserted it.
    for (const container of lxcLs().filter(ours))
      tryHost$(['lxc-destroy', '-P', lxcPath, '-n', container, '-f']);
    for (const container of lxcLs().filter(ours))
      tryHost$(['lxc-destroy', '-P', lxcPath, '-n', container, '-f']);
    tryHost$(['ip', 'link', 'del', bridge]);
    tryHost$(['nft', 'delete', 'table', 'ip', nftTableName(bridge)]);
    tryHost$(['nft', 'delete', 'table', 'bridge', nftTableName(bridge)]);
    tryHost$(['lxc-destroy', '-P', sourcePath, '-n', 'source', '-f']);
    rmSync(sourcePath, { recursive: true, force: true });
    rmSync(lxcPath, { recursive: true, force: true });
  }, 120_000);

  it('prepares the host: bridge with the gateway, forwarding, NAT, subordinate ids', () => {
    const link = host$(['ip', '-j', 'addr', 'show', 'dev', bridge]);
    expect(link).toContain('"local":"10.231.0.1"');
    expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim()).toBe('1');
    expect(host$(['nft', 'list', 'table', 'ip', nftTableName(bridge)])).toContain('masquerade');
    expect(readFileSync('/etc/subuid', 'utf8')).toMatch(/^root:100000:65536$/m);
    expect(readFileSync('/etc/subgid', 'utf8')).toMatch(/^root:100000:65536$/m);
  });

  it('builds a stopped golden owned by the mapped root, and reuses it on a second build', async () => {
    expect(golden).toBe(`wpt-it${run}-v1`);
    expect(host$(['lxc-info', '-P', lxcPath, '-n', golden, '-s', '-H']).trim()).toBe('STOPPED');
    expect(statSync(`${lxcPath}/${golden}/rootfs`).uid).toBe(100000);
    const started = Date.now();
    const again = await driver.buildTemplate(host, {
      name: `it${run}`,
      version: 1,
      source: { lxcTemplate: 'busybox' },
      setup: [['sh', '-c', 'echo rebuilt > /etc/warmpool-setup']],
    });
    expect(again.ref).toBe(golden);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(readFileSync(`${lxcPath}/${golden}/rootfs/etc/warmpool-setup`, 'utf8')).toBe('baked\n');
  }, 30_000);

  it('clones and starts three containers at once, each healthy with its address', async () => {
    const timings = await Promise.all(
      [a(), b(), c()].map(async (s) => {
        const t0 = Date.now();
        await driver.clone(host, s);
        const t1 = Date.now();
        await driver.start(host, s);
        const t2 = Date.now();
        await driver.healthcheck(host, s.name);
        return { clone: t1 - t0, start: t2 - t1, health: Date.now() - t2 };
      }),
    );
    for (const t of timings) expect(t.clone + t.start).toBeLessThan(10_000);
    expect(await driver.describe(host, a().name)).toEqual({ state: 'running', ip: '10.231.0.2' });
    expect(await driver.describe(host, c().name)).toEqual({ state: 'running', ip: '10.231.0.4' });
    expect((await driver.list(host)).filter(ours).sort()).toEqual([a().name, b().name, c().name]);
    // Golden and clone overlays belong to the mapped root, or the overlay mount fails with EPERM.
    expect(statSync(`${lxcPath}/${a().name}/overlay/delta`).uid).toBe(100000);
  }, 60_000);

  it('shows the setup commands of the golden in every clone', async () => {
    for (const s of [a(), b(), c()]) {
      const result = await exec(s.name, ['cat', '/etc/warmpool-setup']);
      expect(result).toMatchObject({ exitCode: 0, stdout: 'baked\n', timedOut: false });
      expect((await exec(s.name, ['test', '-d', '/srv/from-setup'])).exitCode).toBe(0);
    }
  });

  it('is root inside and uid 100000 outside', async () => {
    expect((await exec(a().name, ['id', '-u'])).stdout).toBe('0\n');
    const status = readFileSync(`/proc/${initPid(a().name)}/status`, 'utf8');
    expect(status).toMatch(/^Uid:\s+100000\s+100000\s+100000\s+100000$/m);
    expect(status).toMatch(/^Gid:\s+100000\s+100000\s+100000\s+100000$/m);
  });

  it('passes argv, env and stdin literally, with no shell in between', async () => {
    const viaSh = await exec(a().name, ['sh', '-c', 'echo $0', '; rm -rf /']);
    expect(viaSh.stdout).toBe('; rm -rf /\n');

    const hostile = ['a\'b"c', '$(id -u)', '`id -u`', 'x\ny', '*', '$HOME', '\\', '-n', ''];
    const printed = await exec(a().name, ['printf', '[%s]\\n', ...hostile]);
    expect(printed.stdout).toBe(hostile.map((arg) => `[${arg}]\n`).join(''));

    const value = 'hi $(id) `x`\nline2 ; true';
    const env = await exec(a().name, ['sh', '-c', 'printf %s "$GREETING"'], {
      env: { GREETING: value },
    });
    expect(env.stdout).toBe(value);
    // --clear-env: the container sees what we pass and nothing of the service's environment.
    const all = await exec(a().name, ['env'], { env: { ONLY: '1' } });
    const names = all.stdout
      .trim()
      .split('\n')
      .map((line) => line.split('=')[0]);
    expect(names.sort()).toEqual(['ONLY', 'PATH', 'container']);

    const piped = await exec(a().name, ['cat'], { stdin: 'from stdin; $(reboot)\n' });
    expect(piped.stdout).toBe('from stdin; $(reboot)\n');

    await expect(exec(a().name, ['true'], { env: { 'A;B': '1' } })).rejects.toThrow(DriverError);
    await expect(exec(a().name, [])).rejects.toThrow(DriverError);
    expect((await exec(a().name, ['test', '-d', '/etc'])).exitCode).toBe(0);
  });

  it('streams output to the sink and caps it per stream', async () => {
    const chunks: string[] = [];
    const result = await driver.exec(
      host,
      a().name,
      {
        command: ['sh', '-c', 'echo out; echo err >&2; exit 3'],
        timeoutMs: 10_000,
        maxOutputBytes: 1024,
      },
      (stream, data) => chunks.push(`${stream}:${data}`),
    );
    expect(result).toMatchObject({
      exitCode: 3,
      stdout: 'out\n',
      stderr: 'err\n',
      truncated: false,
    });
    expect(chunks.sort()).toEqual(['stderr:err\n', 'stdout:out\n']);

    const big = await driver.exec(host, a().name, {
      command: ['sh', '-c', 'yes | head -c 100000'],
      timeoutMs: 10_000,
      maxOutputBytes: 1000,
    });
    expect(big.truncated).toBe(true);
    expect(big.stdout.length).toBe(1000);
  });

  it('keeps files and processes of one container invisible to another', async () => {
    await exec(a().name, ['sh', '-c', 'echo secret > /tmp/only-in-a']);
    await exec(a().name, ['sh', '-c', 'setsid sleep 4242 </dev/null >/dev/null 2>&1 &']);
    expect((await exec(a().name, ['ps'])).stdout).toContain('sleep 4242');
    expect((await exec(b().name, ['ps'])).stdout).not.toContain('sleep 4242');
    expect((await exec(b().name, ['cat', '/tmp/only-in-a'])).exitCode).not.toBe(0);
    expect((await exec(c().name, ['ls', '/tmp'])).stdout).not.toContain('only-in-a');
  });

  it('isolated reaches the gateway but no other container; shared containers reach each other', async () => {
    for (const s of [d(), e()]) {
      await driver.clone(host, s);
      await driver.start(host, s);
    }
    expect(await reaches(a().name, '10.231.0.1')).toBe(true);
    expect(await reaches(a().name, '10.231.0.3')).toBe(false);
    expect(await reaches(b().name, '10.231.0.2')).toBe(false);
    // Port isolation alone would let an isolated port talk to a shared one; the bridge filter does not.
    expect(await reaches(a().name, '10.231.0.4')).toBe(false);
    expect(await reaches(c().name, '10.231.0.2')).toBe(false);
    expect(await reaches(c().name, '10.231.0.5')).toBe(true);
    expect(await reaches(d().name, '10.231.0.4')).toBe(true);
    expect(await reaches(c().name, '10.231.0.1')).toBe(true);

    // Root inside may route a neighbour through the gateway; the host does not forward it back.
    const route = await exec(a().name, [
      'ip',
      'route',
      'add',
      '10.231.0.3/32',
      'via',
      '10.231.0.1',
    ]);
    expect(route.exitCode).toBe(0);
    expect(await reaches(a().name, '10.231.0.3')).toBe(false);
  }, 60_000);

  it('gives network none nothing but loopback', async () => {
    const links = await exec(e().name, ['ip', '-o', 'link']);
    expect(
      links.stdout
        .trim()
        .split('\n')
        .map((line) => line.split(':')[1].trim()),
    ).toEqual(['lo']);
    const addresses = await exec(e().name, ['ip', '-o', '-4', 'addr']);
    expect(addresses.stdout).toContain('127.0.0.1');
    expect(addresses.stdout).not.toContain('10.231.');
    expect(await reaches(e().name, '10.231.0.1')).toBe(false);
    expect(await driver.describe(host, e().name)).toEqual({ state: 'running', ip: null });
  });

  it('enforces the memory limit inside the container and nowhere else', async () => {
    const layout = parseCgroupLayout(readFileSync('/proc/self/mountinfo', 'utf8'));
    const cgroups = readFileSync(`/proc/${initPid(a().name)}/cgroup`, 'utf8');
    let limitFile: string;
    let eventsFile: string;
    if (layout.v1.memory) {
      const path = /^\d+:memory:(.*)$/m.exec(cgroups)?.[1];
      limitFile = `${layout.v1.memory}${path}/memory.limit_in_bytes`;
      eventsFile = `${layout.v1.memory}${path}/memory.oom_control`;
    } else {
      const path = /^0::(.*)$/m.exec(cgroups)?.[1];
      limitFile = `${layout.unified}${path}/memory.max`;
      eventsFile = `${layout.unified}${path}/memory.events`;
    }
    expect(Number(readFileSync(limitFile, 'utf8'))).toBe(64 * MIB);

    const hog = await exec(a().name, ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=300M', 'count=1'], {
      timeoutMs: 30_000,
    });
    expect(hog.timedOut).toBe(false);
    expect(hog.exitCode).toBe(137);
    expect(Number(/oom_kill (\d+)/.exec(readFileSync(eventsFile, 'utf8'))?.[1])).toBeGreaterThan(0);
    // The container and this process carry on.
    expect((await exec(a().name, ['echo', 'alive'])).stdout).toBe('alive\n');
    await driver.healthcheck(host, a().name);
  }, 60_000);

  it('applies cpu and iops limits as requested', () => {
    const layout = parseCgroupLayout(readFileSync('/proc/self/mountinfo', 'utf8'));
    const read = (container: string, file: string) =>
      host$(['lxc-cgroup', '-P', lxcPath, '-n', container, file]).trim();
    if (layout.v1.cpu) {
      expect(read(a().name, 'cpu.cfs_quota_us')).toBe('50000');
      expect(read(c().name, 'cpu.cfs_quota_us')).toBe('100000');
    } else {
      expect(read(a().name, 'cpu.max')).toBe('50000 100000');
    }
    const device = host$(['findmnt', '-n', '-o', 'MAJ:MIN', '--target', lxcPath]).trim();
    if (layout.v1.blkio && !device.startsWith('0:') && !existsPartition(device)) {
      expect(read(b().name, 'blkio.throttle.read_iops_device')).toBe(`${device} 100`);
    }
  });

  it('kills a command that outlives its timeout, inside the container too', async () => {
    const started = Date.now();
    const slow = await exec(b().name, ['sh', '-c', 'sleep 31; echo finished'], { timeoutMs: 1000 });
    expect(slow).toMatchObject({ timedOut: true, exitCode: null });
    expect(slow.stdout).not.toContain('finished');
    expect(Date.now() - started).toBeLessThan(5000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await exec(b().name, ['ps'])).stdout).not.toContain('sleep 31');
  });

  it('resets a container to its pristine state, running, isolated and limited', async () => {
    await exec(a().name, ['sh', '-c', 'echo dirty > /root/dirty']);
    const started = Date.now();
    await driver.reset(host, a());
    const resetMs = Date.now() - started;
    expect(resetMs).toBeLessThan(10_000);
    expect((await exec(a().name, ['cat', '/root/dirty'])).exitCode).not.toBe(0);
    expect((await exec(a().name, ['ps'])).stdout).not.toContain('sleep 4242');
    expect((await exec(a().name, ['cat', '/etc/warmpool-setup'])).stdout).toBe('baked\n');
    expect(await driver.describe(host, a().name)).toEqual({ state: 'running', ip: '10.231.0.2' });
    expect(await reaches(a().name, '10.231.0.3')).toBe(false);
    expect(await reaches(a().name, '10.231.0.1')).toBe(true);
    // Starting a running container is a no-op that still verifies.
    await driver.start(host, a());
    // Cloning an existing clone only rewrites its config.
    await driver.clone(host, a());
  }, 60_000);

  it('fails start when a limit did not reach the cgroup, and stops the container', async () => {
    const f = spec('f', '10.231.0.6', { network: 'isolated', memoryMb: 48 });
    await driver.clone(host, f);
    // A key for the other hierarchy is what LXC silently ignores.
    const configPath = `${lxcPath}/${f.name}/config`;
    const config = readFileSync(configPath, 'utf8');
    const tampered = config.includes('lxc.cgroup.memory.limit_in_bytes')
      ? config.replace('lxc.cgroup.memory.limit_in_bytes', 'lxc.cgroup2.memory.max')
      : config.replace('lxc.cgroup2.memory.max', 'lxc.cgroup.memory.limit_in_bytes');
    expect(tampered).not.toBe(config);
    writeFileSync(configPath, tampered);
    await expect(driver.start(host, f)).rejects.toThrow(/not in force/);
    expect((await driver.describe(host, f.name)).state).toBe('stopped');
    await driver.destroy(host, f.name);
  }, 30_000);

  it('builds a golden from a rootfs directory, shifting its owners into the mapped range', async () => {
    // A privileged busybox tree: owned by the host's real root, as an unpacked image would be.
    host$(['lxc-create', '-P', sourcePath, '-n', 'source', '-t', 'busybox']);
    const rootfs = `${sourcePath}/source/rootfs`;
    expect(statSync(`${rootfs}/bin/busybox`).uid).toBe(0);

    const { ref } = await driver.buildTemplate(host, {
      name: `itrootfs${run}`,
      version: 2,
      source: { rootfs },
      setup: [],
    });
    expect(ref).toBe(`wpt-itrootfs${run}-v2`);
    expect(statSync(`${lxcPath}/${ref}/rootfs/bin/busybox`).uid).toBe(100000);
    expect(statSync(`${rootfs}/bin/busybox`).uid).toBe(0);

    const g: ContainerSpec = {
      name: name('g'),
      golden: ref,
      ip: null,
      resources: { network: 'none' },
    };
    await driver.clone(host, g);
    await driver.start(host, g);
    expect((await exec(g.name, ['stat', '-c', '%u:%g', '/bin/busybox'])).stdout).toBe('0:0\n');
    expect((await exec(g.name, ['id', '-u'])).stdout).toBe('0\n');
    await driver.destroy(host, g.name);
    await driver.removeTemplate(host, ref);
    expect(lxcLs()).not.toContain(ref);
  }, 60_000);

  it('refuses to remove a golden that still has clones', async () => {
    await expect(driver.removeTemplate(host, golden)).rejects.toThrow(/clones/);
  });

  it('destroys idempotently, and leaves nothing of the test behind', async () => {
    await driver.destroy(host, c().name);
    expect(lxcLs()).not.toContain(c().name);
    await driver.destroy(host, c().name);
    expect(await driver.describe(host, c().name)).toEqual({ state: 'missing', ip: null });

    await Promise.all([a(), b(), d(), e()].map((s) => driver.destroy(host, s.name)));
    await driver.removeTemplate(host, golden);
    await driver.removeTemplate(host, golden);
    expect(lxcLs().filter(ours)).toEqual([]);
    expect(await driver.list(host)).toEqual([]);
  }, 60_000);
});

function existsPartition(device: string): boolean {
  try {
    statSync(`/sys/dev/block/${device}/partition`);
    return true;
  } catch {
    return false;
  }
}
