import { randomBytes } from 'node:crypto';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { ipToInt, parseSubnet } from '../../src/hosts/subnet';
import {
  diskUnder,
  lxcCgroup,
  lxcInfo,
  lxcLs,
  memoryFiles,
  readIopsLimit,
  removeLxcLeftovers,
  rootfsOf,
} from '../support/lxc';
import { describeWith } from '../support/services';
import {
  Backend,
  createTenant,
  expectStatus,
  poolStatus,
  settle,
  startTestApp,
  TestApp,
} from '../support/test-app';

const MIB = 1024 * 1024;
const LXC_STEP_MS = 120_000;

/** A subnet and bridge of its own: `npm start` uses 10.88.x, the driver's integration test 10.231.0.x. */
interface TestNetwork {
  subnet: string;
  gateway: string;
  bridge: string;
}

interface ContainerView {
  id: string;
  name: string;
  pool: string;
  host: string;
  state: string;
  ip: string | null;
  templateVersion: number;
  leaseId: string | null;
}

interface LeaseView {
  id: string;
  state: string;
  waitedMs: number;
  containers: { id: string; name: string; host: string; ip: string; templateVersion: number }[];
}

interface ExecResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  truncated: boolean;
}

describeWith(['lxc'], 'LXC pools over HTTP (issue 3: real containers) [embedded]', () =>
  lxcPoolSuite('embedded', { subnet: '10.231.8.0/24', gateway: '10.231.8.1', bridge: 'wpbrtest1' }),
);
describeWith(
  ['lxc', 'postgres', 'redis'],
  'LXC pools over HTTP (issue 3: real containers) [postgres+redis]',
  () =>
    lxcPoolSuite('postgres', {
      subnet: '10.231.9.0/24',
      gateway: '10.231.9.1',
      bridge: 'wpbrtest2',
    }),
);

function lxcPoolSuite(backend: Backend, net: TestNetwork): void {
  const { subnet: SUBNET, gateway: GATEWAY, bridge: BRIDGE } = net;
  const run = randomBytes(3).toString('hex');
  // A path of its own: the reconciler's orphan scan destroys every unknown wp- container it
  // lists, so sharing /var/lib/lxc with another running warmpool would be a fight.
  const lxcPath = `/var/lib/warmpool-e2e-${run}`;
  const hostName = 'lxc-e2e';
  const template = `e2e-${run}`;
  const golden = (version: number) => `wpt-${template}-v${version}`;
  const setupV1 = [['sh', '-c', 'echo v1 > /etc/wp-e2e-setup']];
  const setupV2 = [
    ['sh', '-c', 'echo v2 > /etc/wp-e2e-setup'],
    ['touch', '/etc/wp-e2e-v2'],
  ];
  const limits = { network: 'isolated', memoryMb: 64, swapMb: 0 };
  const IOPS = 500;
  const everSeen = new Set<string>();

  // Where the host has a real disk, the reset pool is also throttled on it (named the way the API takes it).
  let disk: ReturnType<typeof diskUnder> = null;
  let t: TestApp | undefined;
  let ci: Record<string, string>;

  const app = (): TestApp => {
    if (!t) throw new Error('the app did not start');
    return t;
  };

  async function containers(query: Record<string, string> = {}): Promise<ContainerView[]> {
    const params = new URLSearchParams({ host: hostName, limit: '200', ...query });
    const res = await app().http.get(`/v1/admin/containers?${params}`).set(app().admin).expect(200);
    const items = res.body.items as ContainerView[];
    for (const c of items) everSeen.add(c.name);
    return items;
  }

  async function live(): Promise<ContainerView[]> {
    return (await containers()).filter((c) => c.state !== 'destroyed');
  }

  async function lease(pool: string, count = 1): Promise<LeaseView> {
    const res = await app()
      .http.post('/v1/leases')
      .set(ci)
      .send({ pool, count, waitSeconds: 0, ttlSeconds: 600 })
      .expect((r) => expectStatus(r, [201]));
    for (const c of (res.body as LeaseView).containers) everSeen.add(c.name);
    return res.body as LeaseView;
  }

  async function release(leaseId: string): Promise<void> {
    await app().http.delete(`/v1/leases/${leaseId}`).set(ci).expect(200);
  }

  async function exec(
    leaseId: string,
    command: string[],
    extra: { container?: string; env?: Record<string, string>; stdin?: string } = {},
  ): Promise<ExecResult> {
    const res = await app()
      .http.post(`/v1/leases/${leaseId}/exec`)
      .set(ci)
      .send({ command, timeoutSeconds: 60, ...extra })
      .expect((r) => expectStatus(r, [200]));
    return res.body as ExecResult;
  }

  /**
   * One reply proves a path, so one ping settles "unreachable"; "reachable" gets up to three
   * tries, so a single lost first packet (ARP on a fresh veth) does not fail the test.
   */
  async function reaches(
    leaseId: string,
    container: string,
    ip: string,
    tries = 1,
  ): Promise<boolean> {
    for (let i = 0; i < tries; i++) {
      const ping = await exec(leaseId, ['ping', '-c1', '-W1', ip], { container });
      if (ping.exitCode === 0) return true;
    }
    return false;
  }

  async function putPool(name: string, body: Record<string, unknown>): Promise<void> {
    await app()
      .http.put(`/v1/admin/pools/${name}`)
      .set(app().admin)
      .send({ template, scaleDownDelaySeconds: 0, ...body })
      .expect((r) => expectStatus(r, [200, 201]));
  }

  async function putTemplate(setup: string[][]): Promise<{ version: number; state: string }> {
    const res = await app()
      .http.put(`/v1/admin/templates/${template}`)
      .set(app().admin)
      .send({ driver: 'lxc', source: { lxcTemplate: 'busybox' }, setup })
      .expect((r) => expectStatus(r, [200, 201]));
    return res.body as { version: number; state: string };
  }

  /** Reconcile passes (each waiting for its driver work) until `done` holds; bounded. */
  async function reconcileUntil(
    what: string,
    done: () => Promise<boolean>,
    passes = 30,
  ): Promise<void> {
    for (let i = 0; i < passes; i++) {
      await app().reconcile();
      if (await done()) return;
    }
    const hosts = await app().http.get('/v1/admin/hosts').set(app().admin);
    throw new Error(
      `${what}: not reached after ${passes} passes; containers ${JSON.stringify(
        (await live()).map((c) => [c.name, c.pool, c.state, c.templateVersion]),
      )}; hosts ${JSON.stringify(hosts.body)}; lxc-ls ${lxcLs(lxcPath).join(' ')}`,
    );
  }

  beforeAll(async () => {
    removeLxcLeftovers(lxcPath, BRIDGE);
    disk = diskUnder('/var/lib');
    t = await startTestApp(backend);
    await t.http
      .put(`/v1/admin/hosts/${hostName}`)
      .set(t.admin)
      .send({
        driver: 'lxc',
        address: 'local',
        subnet: SUBNET,
        maxContainers: 20,
        maxConcurrentProvisions: 4,
        options: { lxcPath, bridge: BRIDGE, ...(disk ? { blockDevice: disk.path } : {}) },
      })
      .expect((r) => expectStatus(r, [201]));
    expect((await putTemplate(setupV1)).version).toBe(1);
    await reconcileUntil('template v1 built', async () => {
      const res = await app().http.get(`/v1/admin/templates/${template}`).set(app().admin);
      if (res.body.state === 'failed') throw new Error(`build failed: ${res.body.error}`);
      return res.body.state === 'ready';
    });
    await putPool('iso', { minReady: 3, maxReady: 3, maxTotal: 10, resources: limits });
    ci = await createTenant(t, 'ci', 20);
    await settle(t, 'iso');
  }, LXC_STEP_MS);

  afterEach(async () => {
    // A failed test must not leave leases that the next test then trips over.
    if (!t) return;
    const active = await t.http.get('/v1/leases?state=active&limit=100').set(ci).expect(200);
    for (const l of active.body.items as LeaseView[]) await release(l.id);
    await settle(t, 'iso');
  }, LXC_STEP_MS);

  afterAll(async () => {
    let leftovers: string[] = [];
    let teardownError: unknown = null;
    try {
      if (t) {
        for (const pool of ['iso', 'shared', 'reset']) {
          await t.http
            .delete(`/v1/admin/pools/${pool}?force=true`)
            .set(t.admin)
            .expect((r) => expectStatus(r, [204, 404]));
        }
        await reconcileUntil('every container destroyed', async () => (await live()).length === 0);
        await t.http
          .delete(`/v1/admin/templates/${template}`)
          .set(t.admin)
          .expect((r) => expectStatus(r, [204]));
        await reconcileUntil(
          'goldens removed',
          async () => !lxcLs(lxcPath).some((n) => n.startsWith(`wpt-${template}-`)),
        );
        await containers();
        await t.http
          .delete(`/v1/admin/hosts/${hostName}`)
          .set(t.admin)
          .expect((r) => expectStatus(r, [204]));
      }
    } catch (err) {
      teardownError = err;
    } finally {
      await t?.close();
      // What lxc-ls shows of this run, here and in the default path, before any cleanup by hand.
      leftovers = lxcLs(lxcPath).filter((n) => n.startsWith('wp-') || n.startsWith('wpt-'));
      const elsewhere = lxcLs('/var/lib/lxc').filter(
        (n) => everSeen.has(n) || n.startsWith(`wpt-${template}-`),
      );
      leftovers.push(...elsewhere.map((n) => `/var/lib/lxc/${n}`));
      removeLxcLeftovers(lxcPath, BRIDGE);
    }
    if (teardownError) throw teardownError;
    expect(leftovers).toEqual([]);
  }, LXC_STEP_MS);

  it(
    'fills a pool of 3 with running clones of the golden; a lease takes one in well under a second',
    async () => {
      expect(await poolStatus(app(), 'iso')).toMatchObject({
        ready: 3,
        provisioning: 0,
        leased: 0,
        failed: 0,
      });
      const ready = await containers({ pool: 'iso', state: 'ready' });
      expect(ready).toHaveLength(3);
      const onHost = lxcLs(lxcPath);
      expect(onHost).toContain(golden(1));
      expect(lxcInfo(lxcPath, golden(1)).state).toBe('STOPPED');
      for (const c of ready) {
        expect(c).toMatchObject({ host: hostName, templateVersion: 1, leaseId: null });
        expect(c.name).toMatch(/^wp-[0-9a-f]{8}$/);
        expect(onHost).toContain(c.name);
        expect(lxcInfo(lxcPath, c.name).state).toBe('RUNNING');
        // Copy-on-write: the golden's rootfs is the clone's lower layer.
        expect(rootfsOf(lxcPath, c.name)).toContain(`overlay:${lxcPath}/${golden(1)}/rootfs:`);
      }

      const started = performance.now();
      const res = await app()
        .http.post('/v1/leases')
        .set(ci)
        .send({ pool: 'iso', waitSeconds: 0 })
        .expect((r) => expectStatus(r, [201]));
      const roundTripMs = performance.now() - started;
      expect(roundTripMs).toBeLessThan(1000);
      const leased = res.body as LeaseView;
      expect(leased.waitedMs).toBe(0);
      expect(leased.containers).toHaveLength(1);
      const [box] = leased.containers;
      expect(ready.map((c) => c.name)).toContain(box.name);
      expect(box).toMatchObject({ host: hostName, templateVersion: 1 });

      expect(await exec(leased.id, ['cat', '/etc/wp-e2e-setup'])).toMatchObject({
        exitCode: 0,
        stdout: 'v1\n',
      });
      expect(await exec(leased.id, ['id', '-u'])).toMatchObject({
        exitCode: 0,
        stdout: '0\n',
        stderr: '',
        timedOut: false,
      });

      const hosts = await app().http.get('/v1/admin/hosts').set(app().admin).expect(200);
      const host = (hosts.body.items as Record<string, unknown>[]).find((h) => h.name === hostName);
      expect(host).toMatchObject({
        resolvedDriver: 'lxc',
        state: 'active',
        health: 'up',
        lastError: null,
        subnet: SUBNET,
        gateway: GATEWAY,
        counts: { live: 3, ready: 2, leased: 1, provisioning: 0, recycling: 0, failed: 0 },
      });

      const all = await live();
      expect(all).toHaveLength(3);
      expect(new Set(all.map((c) => c.ip)).size).toBe(3);
      const net = parseSubnet(SUBNET);
      const broadcast = net.network + 2 ** (32 - net.prefixLength) - 1;
      for (const c of all) {
        const address = ipToInt(c.ip!);
        expect(address).toBeGreaterThan(ipToInt(GATEWAY));
        expect(address).toBeLessThan(broadcast);
        // The address the service hands out is the one the container really has.
        expect(lxcInfo(lxcPath, c.name).ips).toEqual([c.ip]);
      }
      expect(box.ip).toBe(all.find((c) => c.name === box.name)!.ip);

      // The setup command's file is in every clone, not just the first one leased.
      const rest = await lease('iso', 2);
      for (const c of rest.containers) {
        expect(
          await exec(rest.id, ['cat', '/etc/wp-e2e-setup'], { container: c.id }),
        ).toMatchObject({ exitCode: 0, stdout: 'v1\n' });
      }
      expect(new Set([box.name, ...rest.containers.map((c) => c.name)])).toEqual(
        new Set(ready.map((c) => c.name)),
      );
      await release(rest.id);
      await release(leased.id);
    },
    LXC_STEP_MS,
  );

  it(
    'keeps two leased containers apart: files, processes, and (isolated) network; a shared pool connects',
    async () => {
      const pair = await lease('iso', 2);
      const [a, b] = pair.containers;
      expect(a.ip).not.toBe(b.ip);

      await exec(pair.id, ['sh', '-c', 'echo secret > /root/only-in-a'], { container: a.id });
      expect((await exec(pair.id, ['cat', '/root/only-in-a'], { container: a.id })).stdout).toBe(
        'secret\n',
      );
      const readInB = await exec(pair.id, ['cat', '/root/only-in-a'], { container: b.id });
      expect(readInB.exitCode).not.toBe(0);
      expect(readInB.stdout).toBe('');

      await exec(pair.id, ['sh', '-c', 'setsid sleep 4242 </dev/null >/dev/null 2>&1 &'], {
        container: a.id,
      });
      expect((await exec(pair.id, ['ps'], { container: a.id })).stdout).toContain('sleep 4242');
      expect((await exec(pair.id, ['ps'], { container: b.id })).stdout).not.toContain('sleep 4242');

      expect(await reaches(pair.id, a.id, GATEWAY, 3)).toBe(true);
      expect(await reaches(pair.id, b.id, GATEWAY, 3)).toBe(true);
      expect(await reaches(pair.id, a.id, b.ip)).toBe(false);
      expect(await reaches(pair.id, b.id, a.ip)).toBe(false);

      await putPool('shared', {
        minReady: 2,
        maxReady: 2,
        maxTotal: 2,
        resources: { network: 'shared', memoryMb: 64 },
      });
      await settle(app(), 'shared');
      const together = await lease('shared', 2);
      const [c, d] = together.containers;
      expect(await reaches(together.id, c.id, d.ip, 3)).toBe(true);
      expect(await reaches(together.id, d.id, c.ip, 3)).toBe(true);
      expect(await reaches(together.id, c.id, GATEWAY, 3)).toBe(true);
      // A shared container is still out of an isolated one's reach, both ways.
      expect(await reaches(together.id, c.id, a.ip)).toBe(false);
      expect(await reaches(pair.id, a.id, c.ip)).toBe(false);

      await release(together.id);
      await release(pair.id);
      await app().http.delete('/v1/admin/pools/shared').set(app().admin).expect(204);
    },
    LXC_STEP_MS,
  );

  it(
    'holds a container to memoryMb: the limit is in its cgroup, a hog is killed inside, the service carries on',
    async () => {
      const held = await lease('iso');
      const [box] = held.containers;
      const files = memoryFiles();
      expect(Number(lxcCgroup(lxcPath, box.name, files.limit))).toBe(64 * MIB);
      if (files.swapLimit === 'memory.memsw.limit_in_bytes') {
        expect(Number(lxcCgroup(lxcPath, box.name, files.swapLimit))).toBe(64 * MIB);
      } else if (files.swapLimit) {
        expect(Number(lxcCgroup(lxcPath, box.name, files.swapLimit))).toBe(0);
      }

      const hog = exec(held.id, ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=300M', 'count=1']);
      // The service answers while the container is out of memory.
      const health = await app().http.get('/healthz').expect(200);
      expect(health.body).toEqual({ status: 'ok' });
      const killed = await hog;
      expect(killed.timedOut).toBe(false);
      expect(killed.exitCode).toBe(137);
      const events = lxcCgroup(lxcPath, box.name, files.events);
      expect(Number(/oom_kill (\d+)/.exec(events)?.[1])).toBeGreaterThan(0);

      await app().http.get('/healthz').expect(200);
      expect(await exec(held.id, ['echo', 'alive'])).toMatchObject({
        exitCode: 0,
        stdout: 'alive\n',
      });
      expect(lxcInfo(lxcPath, box.name).state).toBe('RUNNING');
      await release(held.id);
    },
    LXC_STEP_MS,
  );

  it('passes exec argv to the container literally: no shell on the host or in between', async () => {
    const held = await lease('iso');
    // The same path on the host and in the container: whichever side ran the payload loses it.
    const canary = `/tmp/wp-e2e-canary-${run}`;
    writeFileSync(canary, 'still here\n');
    try {
      await exec(held.id, ['sh', '-c', 'echo still here > "$0"', canary]);
      const payload = `; rm -rf ${canary}`;

      expect(await exec(held.id, ['sh', '-c', 'echo $0', payload])).toMatchObject({
        exitCode: 0,
        stdout: `${payload}\n`,
      });
      const hostile = [
        `a'b"c`,
        `$(rm -rf ${canary})`,
        `\`rm -rf ${canary}\``,
        'first line\nsecond line',
        payload,
        `&& rm -rf ${canary} ||`,
        '$HOME',
        '*',
        '\\',
        '-n',
        '',
      ];
      const printed = await exec(held.id, ['printf', '[%s]\\n', ...hostile]);
      expect(printed).toMatchObject({ exitCode: 0, stderr: '' });
      expect(printed.stdout).toBe(hostile.map((arg) => `[${arg}]\n`).join(''));

      const value = `$(rm -rf ${canary}) \`id\`\n'"; true`;
      const viaEnv = await exec(held.id, ['sh', '-c', 'printf %s "$PAYLOAD"'], {
        env: { PAYLOAD: value },
      });
      expect(viaEnv.stdout).toBe(value);
      const viaStdin = await exec(held.id, ['cat'], { stdin: `${value}\n` });
      expect(viaStdin.stdout).toBe(`${value}\n`);

      expect(await exec(held.id, ['cat', canary])).toMatchObject({
        exitCode: 0,
        stdout: 'still here\n',
      });
      expect(existsSync(canary)).toBe(true);
    } finally {
      rmSync(canary, { force: true });
      await release(held.id);
    }
  });

  it(
    'destroys a released container and replaces it with a fresh clone',
    async () => {
      const before = (await containers({ pool: 'iso', state: 'ready' })).map((c) => c.name);
      const held = await lease('iso');
      const [box] = held.containers;
      await exec(held.id, ['touch', '/root/was-leased']);
      const released = await app().http.delete(`/v1/leases/${held.id}`).set(ci).expect(200);
      expect(released.body.state).toBe('released');
      // Not handed to anyone before it is gone.
      const [recycling] = (await containers({ pool: 'iso' })).filter((c) => c.name === box.name);
      expect(recycling.state).toBe('recycling');

      await settle(app(), 'iso');
      expect(lxcLs(lxcPath)).not.toContain(box.name);
      const gone = await app().http.get(`/v1/admin/containers/${box.id}`).set(app().admin);
      expect(gone.body.state).toBe('destroyed');
      const after = (await containers({ pool: 'iso', state: 'ready' })).map((c) => c.name);
      expect(after).toHaveLength(3);
      expect(after).not.toContain(box.name);
      const fresh = after.filter((name) => !before.includes(name));
      expect(fresh).toHaveLength(1);
      expect(lxcInfo(lxcPath, fresh[0]).state).toBe('RUNNING');
      expect(rootfsOf(lxcPath, fresh[0])).toContain(`overlay:${lxcPath}/${golden(1)}/rootfs:`);
    },
    LXC_STEP_MS,
  );

  it(
    'with recycle: reset, the same container comes back without what the last lease wrote, limits in force',
    async () => {
      await putPool('reset', {
        minReady: 1,
        maxReady: 1,
        maxTotal: 1,
        recycle: 'reset',
        resources: { ...limits, ...(disk ? { iops: IOPS } : {}) },
      });
      await settle(app(), 'reset');
      const first = await lease('reset');
      const [box] = first.containers;
      await exec(first.id, [
        'sh',
        '-c',
        'echo dirty > /root/dirty; echo dirty > /etc/wp-e2e-setup',
      ]);
      await exec(first.id, ['sh', '-c', 'setsid sleep 4343 </dev/null >/dev/null 2>&1 &']);
      await release(first.id);
      await settle(app(), 'reset');
      expect(lxcLs(lxcPath)).toContain(box.name);

      const second = await lease('reset');
      expect(second.containers[0]).toMatchObject({ id: box.id, name: box.name, ip: box.ip });
      expect((await exec(second.id, ['cat', '/root/dirty'])).exitCode).not.toBe(0);
      expect((await exec(second.id, ['cat', '/etc/wp-e2e-setup'])).stdout).toBe('v1\n');
      expect((await exec(second.id, ['ps'])).stdout).not.toContain('sleep 4343');
      // The reset container is limited and networked as the pool says, like a fresh clone.
      expect(Number(lxcCgroup(lxcPath, box.name, memoryFiles().limit))).toBe(64 * MIB);
      if (disk) expect(readIopsLimit(lxcPath, box.name, disk.disk)).toBe(IOPS);
      expect(lxcInfo(lxcPath, box.name).ips).toEqual([box.ip]);
      expect(await reaches(second.id, box.id, GATEWAY, 3)).toBe(true);
      await release(second.id);
      await app().http.delete('/v1/admin/pools/reset').set(app().admin).expect(204);
    },
    LXC_STEP_MS,
  );

  it(
    'rotates a pool onto a new template version; a container leased before keeps v1 until released',
    async () => {
      const held = await lease('iso');
      const [old] = held.containers;
      const v2 = await putTemplate(setupV2);
      expect(v2).toMatchObject({ version: 2, state: 'building' });

      await reconcileUntil('ready containers on v2', async () => {
        const ready = await containers({ pool: 'iso', state: 'ready' });
        const status = await poolStatus(app(), 'iso');
        return (
          ready.length === 3 &&
          ready.every((c) => c.templateVersion === 2) &&
          status.provisioning === 0 &&
          status.retiring === 0
        );
      });
      expect(lxcLs(lxcPath)).toEqual(expect.arrayContaining([golden(1), golden(2)]));
      for (const c of await containers({ pool: 'iso', state: 'ready' })) {
        expect(rootfsOf(lxcPath, c.name)).toContain(`overlay:${lxcPath}/${golden(2)}/rootfs:`);
        expect(lxcInfo(lxcPath, c.name).state).toBe('RUNNING');
      }
      const fresh = await lease('iso');
      expect(fresh.containers[0].templateVersion).toBe(2);
      expect((await exec(fresh.id, ['cat', '/etc/wp-e2e-setup'])).stdout).toBe('v2\n');
      expect((await exec(fresh.id, ['test', '-e', '/etc/wp-e2e-v2'])).exitCode).toBe(0);
      await release(fresh.id);

      // The lease made before the rotation is untouched: still running on v1.
      const still = await app().http.get(`/v1/leases/${held.id}`).set(ci).expect(200);
      expect(still.body.state).toBe('active');
      expect(still.body.containers[0]).toMatchObject({ name: old.name, templateVersion: 1 });
      expect(lxcInfo(lxcPath, old.name).state).toBe('RUNNING');
      expect((await exec(held.id, ['cat', '/etc/wp-e2e-setup'])).stdout).toBe('v1\n');
      expect((await exec(held.id, ['test', '-e', '/etc/wp-e2e-v2'])).exitCode).not.toBe(0);
      expect(lxcLs(lxcPath)).toContain(golden(1));

      await release(held.id);
      await reconcileUntil(
        'the v1 golden removed',
        async () => !lxcLs(lxcPath).includes(golden(1)),
      );
      expect(lxcLs(lxcPath)).not.toContain(old.name);
      expect(lxcLs(lxcPath)).toContain(golden(2));
      const tpl = await app().http.get(`/v1/admin/templates/${template}`).set(app().admin);
      expect(tpl.body).toMatchObject({ version: 2, state: 'ready' });
      expect((tpl.body.builds as { version: number }[]).map((b) => b.version)).toEqual([2]);
    },
    LXC_STEP_MS,
  );

  it('refuses an LXC host whose options.bridge the driver cannot use', async () => {
    // The driver names its nft tables after the bridge, so it takes [A-Za-z0-9_] and no '-';
    // a host accepted here would fail every driver operation later, with a non-retryable error.
    const res = await app()
      .http.put('/v1/admin/hosts/lxc-bad-bridge')
      .set(app().admin)
      .send({ driver: 'lxc', options: { lxcPath: `${lxcPath}-unused`, bridge: 'wp-e2e-br' } });
    try {
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('validation_failed');
      expect(res.body.details.fields.map((f: { field: string }) => f.field)).toContain(
        'options.bridge',
      );
    } finally {
      if (res.status < 300) {
        await app().http.delete('/v1/admin/hosts/lxc-bad-bridge').set(app().admin).expect(204);
      }
    }
  });
}
