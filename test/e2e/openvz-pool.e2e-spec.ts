import { randomUUID } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { pristineSnapshotId } from '../../src/drivers/openvz/ctid';
import { FakeOpenVzHost } from '../fakes/openvz/fake-host';
import { describeWith, TEST_DATABASE_URL } from '../support/services';
import {
  createTenant,
  expectStatus,
  poolStatus,
  settle,
  startTestApp,
  TestApp,
} from '../support/test-app';

/**
 * OpenVZ through the whole service: HTTP → lease service / reconciler → OpenVzDriver →
 * LocalCommandRunner → the fake vzctl/prlctl/vzlist found on PATH, whose on-disk state the
 * tests read back to see what really happened on the "host".
 */

const OSTEMPLATE = 'centos-7-x86_64';
const SUBNET = '10.77.0.0/24';
const GATEWAY = '10.77.0.1';
const RESOURCES = {
  cpus: 2,
  memoryMb: 512,
  swapMb: 0,
  diskMb: 2048,
  cpuLimitPercent: 150,
  iops: 300,
  network: 'isolated',
};
/** What `vzctl set --save` must have stored for RESOURCES (the fake's stand-in for ve.conf). */
const SAVED_LIMITS = {
  RAM: '512M',
  SWAP: '0M',
  CPUS: '2',
  CPULIMIT: '150',
  DISKSPACE: '2048M',
  IOPSLIMIT: '300',
};

interface ContainerView {
  id: string;
  name: string;
  state: string;
  ip: string | null;
  leaseId: string | null;
  error: string | null;
}

interface LeaseBody {
  id: string;
  containers: { id: string; name: string; ip: string | null; host: string }[];
}

/**
 * A thin layer in front of the fakes, first on PATH, for what the fakes themselves must not
 * do: make a host's tools fail as a whole (as vzctl does when the vzdev module is missing)
 * and hold a `start` of a container until the test lets it go (a worker that stops between
 * clone and start). Anything else goes straight to the fake.
 */
class ToolShim {
  readonly root = mkdtempSync(join(tmpdir(), 'wp-openvz-shim-'));
  readonly binDir = join(this.root, 'bin');
  private readonly ctl = join(this.root, 'ctl');

  constructor(fake: FakeOpenVzHost) {
    mkdirSync(this.binDir);
    mkdirSync(this.ctl);
    const broken: Record<string, [string, number]> = {
      vzctl: ['Unable to open /dev/vzctl: No such file or directory', 5],
      vzlist: ['Unable to open /proc/vz/veinfo: No such file or directory', 1],
      prlctl: ['Unable to connect to the dispatcher: Connection refused', 255],
    };
    for (const [tool, [message, code]] of Object.entries(broken)) {
      const script = [
        '#!/bin/sh',
        `ctl=${shq(this.ctl)}`,
        'if [ -e "$ctl/broken" ]; then',
        `  echo ${shq(message)} >&2`,
        `  exit ${code}`,
        'fi',
        'if [ "$1" = start ]; then',
        '  [ -e "$ctl/gate-start" ] && : > "$ctl/held-$2"',
        '  while [ -e "$ctl/held-$2" ]; do sleep 0.05; done',
        'fi',
        `exec ${shq(join(fake.binDir, tool))} "$@"`,
        '',
      ].join('\n');
      writeFileSync(join(this.binDir, tool), script);
      chmodSync(join(this.binDir, tool), 0o755);
    }
  }

  path(base: string): string {
    return `${this.binDir}:${base}`;
  }

  /** Every tool fails at once, like a host whose OpenVZ kernel is gone. */
  setBroken(on: boolean): void {
    this.flag('broken', on);
  }

  /** From now on each container's first `start` waits until released. */
  holdStarts(on: boolean): void {
    this.flag('gate-start', on);
  }

  /** Names whose `start` is being held. */
  held(): string[] {
    return readdirSync(this.ctl)
      .filter((f) => f.startsWith('held-'))
      .map((f) => f.slice('held-'.length));
  }

  releaseStart(name: string): void {
    rmSync(join(this.ctl, `held-${name}`), { force: true });
  }

  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }

  private flag(name: string, on: boolean): void {
    if (on) writeFileSync(join(this.ctl, name), '');
    else rmSync(join(this.ctl, name), { force: true });
  }
}

function shq(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs = 20_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

async function setUpOpenVz(
  t: TestApp,
  options: { host: string; tool: 'vzctl' | 'prlctl'; pool: string; minReady: number },
): Promise<void> {
  await t.http
    .put(`/v1/admin/hosts/${options.host}`)
    .set(t.admin)
    .send({
      driver: 'openvz',
      address: 'local',
      subnet: SUBNET,
      maxContainers: 20,
      maxConcurrentProvisions: 4,
      options: { tool: options.tool },
    })
    .expect((r) => expectStatus(r, [200, 201]));
  await t.http
    .put('/v1/admin/templates/centos')
    .set(t.admin)
    .send({
      driver: 'openvz',
      source: { ostemplate: OSTEMPLATE },
      setup: [['sh', '-c', 'echo ready > etc/motd']],
    })
    .expect((r) => expectStatus(r, [200, 201]));
  await t.reconcile();
  await t.http
    .put(`/v1/admin/pools/${options.pool}`)
    .set(t.admin)
    .send({
      template: 'centos',
      resources: RESOURCES,
      minReady: options.minReady,
      maxReady: options.minReady,
      maxTotal: options.minReady + 2,
      scaleDownDelaySeconds: 0,
      recycle: 'reset',
    })
    .expect((r) => expectStatus(r, [200, 201]));
  await settle(t, options.pool);
}

async function containers(t: TestApp, pool: string, state?: string): Promise<ContainerView[]> {
  const query = `pool=${pool}&limit=500${state ? `&state=${state}` : ''}`;
  const res = await t.http.get(`/v1/admin/containers?${query}`).set(t.admin).expect(200);
  return res.body.items as ContainerView[];
}

async function container(t: TestApp, id: string): Promise<ContainerView> {
  return (await t.http.get(`/v1/admin/containers/${id}`).set(t.admin).expect(200))
    .body as ContainerView;
}

async function eventTypes(t: TestApp, containerId: string): Promise<string[]> {
  const res = await t.http
    .get(`/v1/admin/events?container=${containerId}&limit=500`)
    .set(t.admin)
    .expect(200);
  return (res.body.items as { type: string }[]).map((e) => e.type);
}

async function hostView(
  t: TestApp,
  name: string,
): Promise<{ name: string; health: string; lastError: string | null }> {
  const res = await t.http.get('/v1/admin/hosts').set(t.admin).expect(200);
  const hosts = res.body.items as { name: string; health: string; lastError: string | null }[];
  const host = hosts.find((h) => h.name === name);
  if (!host) throw new Error(`no host ${name} in GET /v1/admin/hosts`);
  return host;
}

/** What vzlist on the host lists (every container, running or not). */
function vzlistNames(fake: FakeOpenVzHost): string[] {
  const res = fake.runTool('vzlist', ['-a', '-H', '-o', 'name']);
  expect(res.code).toBe(0);
  return res.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

/** Removes a container behind the service's back, as an operator on the host would. */
function removeOnHost(fake: FakeOpenVzHost, name: string): void {
  expect(fake.runTool('vzctl', ['stop', name, '--fast']).code).toBe(0);
  expect(fake.runTool('vzctl', ['destroy', name]).code).toBe(0);
  expect(fake.find(name)).toBeNull();
}

describe('OpenVZ pools through the service [embedded]', () => {
  const POOL = 'vz';
  const HOST = 'ovz1';
  const ORPHAN = 'wp-0rphan01';
  const FOREIGN = 'customer-web';
  let fake: FakeOpenVzHost;
  let shim: ToolShim;
  let t: TestApp;
  let ci: Record<string, string>;
  let savedPath: string | undefined;
  let firstScanAt = 0;

  const lease = async (count = 1): Promise<LeaseBody> =>
    (
      await t.http
        .post('/v1/leases')
        .set(ci)
        .send({ pool: POOL, count, waitSeconds: 0 })
        .expect((r) => expectStatus(r, [201]))
    ).body as LeaseBody;
  const release = async (id: string): Promise<void> => {
    await t.http.delete(`/v1/leases/${id}`).set(ci).expect(200);
  };
  const exec = async (
    leaseId: string,
    body: Record<string, unknown>,
  ): Promise<{ exitCode: number; stdout: string; stderr: string; timedOut: boolean }> =>
    (await t.http.post(`/v1/leases/${leaseId}/exec`).set(ci).send(body).expect(200)).body;

  beforeAll(async () => {
    fake = new FakeOpenVzHost('vz7');
    fake.addOsTemplate(OSTEMPLATE, { 'etc/os-release': 'ID=centos\n' });
    shim = new ToolShim(fake);
    savedPath = process.env.PATH;
    process.env.PATH = shim.path(savedPath ?? '');
    // Already on the host before the service first looks: one of "ours" that the database
    // does not know (an orphan) and one that is not ours at all.
    for (const name of [ORPHAN, FOREIGN]) {
      const created = fake.runTool('vzctl', [
        'create',
        randomUUID(),
        '--ostemplate',
        OSTEMPLATE,
        '--layout',
        'ploop',
        '--name',
        name,
      ]);
      expect(created.code).toBe(0);
    }
    t = await startTestApp('embedded');
    ci = await createTenant(t, 'ci');
    await setUpOpenVz(t, { host: HOST, tool: 'vzctl', pool: POOL, minReady: 2 });
    // The first pass (inside the setup) ran the first orphan scan, no later than now.
    firstScanAt = Date.now();
  });

  afterAll(async () => {
    await t?.close();
    process.env.PATH = savedPath;
    shim?.cleanup();
    fake?.cleanup();
  });

  afterEach(async () => {
    shim.setBroken(false);
    await settle(t, POOL);
  });

  it('builds the golden, then fills the pool with prlctl clones: limits and address saved, a pristine snapshot each', async () => {
    const template = await t.http.get('/v1/admin/templates/centos').set(t.admin).expect(200);
    expect(template.body).toMatchObject({ state: 'ready', version: 1, error: null });
    const golden = fake.find('wpgolden-centos-v1');
    expect(golden).toMatchObject({ state: 'stopped', ip: [], snapshots: [] });
    expect(readFileSync(join(fake.rootOf('wpgolden-centos-v1'), 'etc/motd'), 'utf8')).toBe(
      'ready\n',
    );

    const ready = await containers(t, POOL, 'ready');
    expect(ready).toHaveLength(2);
    const ips = ready.map((c) => c.ip);
    expect(new Set(ips).size).toBe(2);
    for (const c of ready) {
      expect(c.name).toMatch(/^wp-[0-9a-f]{8}$/);
      expect(c.ip).toMatch(/^10\.77\.0\.\d+$/);
      expect(c.ip).not.toBe(GATEWAY);
      const onHost = fake.find(c.name)!;
      // A full copy of the golden under a fresh UUID (prlctl clone), not the golden itself.
      expect(onHost.ctid).toMatch(/^[0-9a-f-]{36}$/);
      expect(onHost.ctid).not.toBe(golden!.ctid);
      expect(onHost).toMatchObject({
        state: 'running',
        ip: [c.ip],
        params: SAVED_LIMITS,
        snapshots: [
          expect.objectContaining({ guid: `{${pristineSnapshotId(c.name)}}`, dump: false }),
        ],
      });
      expect(readFileSync(join(fake.rootOf(c.name), 'etc/motd'), 'utf8')).toBe('ready\n');
    }
    // vzlist agrees, with the addresses; the golden stays stopped and out of the pool.
    const withIps = fake.runTool('vzlist', ['-H', '-o', 'name,ip']).stdout;
    for (const c of ready) expect(withIps).toMatch(new RegExp(`${c.name}\\s+${c.ip}\\b`));
    expect(withIps).not.toContain('wpgolden');
    // Seen once by the first orphan scan, but never destroyed on a single sighting.
    expect(fake.find(ORPHAN)).not.toBeNull();
    expect(fake.find(FOREIGN)).not.toBeNull();
    expect(await hostView(t, HOST)).toMatchObject({ health: 'up', lastError: null });
  });

  it('passes exec argv literally and resets the released container in place: the build leftovers are gone', async () => {
    const first = await lease();
    const [c] = first.containers;
    expect(c).toMatchObject({ host: HOST, ip: expect.stringMatching(/^10\.77\.0\./) });
    const before = fake.find(c.name)!;

    const dollarZero = await exec(first.id, { command: ['sh', '-c', 'echo $0', '; rm -rf /'] });
    expect(dollarZero).toMatchObject({ exitCode: 0, stdout: '; rm -rf /\n', timedOut: false });
    const hostile = [
      "it's",
      '"double"',
      '$(touch pwned-subst)',
      '`touch pwned-tick`',
      'line one\nline two',
      '',
      '$HOME',
      ';|&<>*',
      "'; touch pwned-quote; '",
    ];
    const printed = await exec(first.id, { command: ['printf', '%s\\n', ...hostile] });
    expect(printed).toMatchObject({ exitCode: 0, stderr: '' });
    expect(printed.stdout).toBe(hostile.map((w) => `${w}\n`).join(''));
    const withEnv = await exec(first.id, {
      command: ['sh', '-c', 'printf %s "$MSG"'],
      env: { MSG: "it's $(id) `id`\n" },
    });
    expect(withEnv.stdout).toBe("it's $(id) `id`\n");
    // The command's own status comes back, even one that collides with vzctl's (14: no config).
    expect((await exec(first.id, { command: ['sh', '-c', 'exit 14'] })).exitCode).toBe(14);
    expect((await exec(first.id, { command: ['sh', '-c', 'exit 3'] })).exitCode).toBe(3);
    const root = fake.rootOf(c.name);
    const pwned = (dir: string): string[] => readdirSync(dir).filter((f) => f.startsWith('pwned'));
    expect(pwned(root)).toEqual([]);
    expect(pwned(process.cwd())).toEqual([]);

    // The build writes files, from its argv and from stdin.
    const wrote = await exec(first.id, {
      command: [
        'sh',
        '-c',
        'cat > artifact.txt && mkdir -p var/cache/build && echo x > var/cache/build/obj',
      ],
      stdin: 'build 42 $(output)\n',
    });
    expect(wrote.exitCode).toBe(0);
    expect(readFileSync(join(root, 'artifact.txt'), 'utf8')).toBe('build 42 $(output)\n');

    await release(first.id);
    const status = await settle(t, POOL);
    expect(status).toMatchObject({ ready: 2, leased: 0, failed: 0 });
    // The same container, reset where it stands: same CT, same address, pristine disk.
    const reset = await container(t, c.id);
    expect(reset).toMatchObject({ state: 'ready', name: c.name, ip: c.ip, leaseId: null });
    const after = fake.find(c.name)!;
    expect(after).toMatchObject({
      ctid: before.ctid,
      state: 'running',
      ip: [c.ip],
      params: SAVED_LIMITS,
      snapshots: [expect.objectContaining({ guid: `{${pristineSnapshotId(c.name)}}` })],
    });
    expect(existsSync(join(root, 'artifact.txt'))).toBe(false);
    expect(existsSync(join(root, 'var/cache/build'))).toBe(false);
    expect(readFileSync(join(root, 'etc/motd'), 'utf8')).toBe('ready\n');
    const types = await eventTypes(t, c.id);
    expect(types.filter((x) => x === 'container.destroyed')).toEqual([]);
    expect(types.filter((x) => x === 'container.ready')).toHaveLength(2);

    // Leased again: nothing of the previous build is there.
    const second = await lease(2);
    const again = second.containers.find((x) => x.id === c.id);
    expect(again).toBeDefined();
    const check = await exec(second.id, {
      container: c.id,
      command: [
        'sh',
        '-c',
        'test -e artifact.txt || test -e var/cache/build; echo $?; cat etc/motd',
      ],
    });
    expect(check.stdout).toBe('1\nready\n');

    // vzctl exec2 takes one shell string: the same argv still arrives intact.
    await t.http
      .patch(`/v1/admin/hosts/${HOST}`)
      .set(t.admin)
      .send({ options: { tool: 'vzctl', execMode: 'exec2' } })
      .expect(200);
    try {
      const viaShell = await exec(second.id, {
        container: c.id,
        command: ['printf', '%s\\n', ...hostile],
      });
      expect(viaShell.stdout).toBe(hostile.map((w) => `${w}\n`).join(''));
      expect(pwned(root)).toEqual([]);
    } finally {
      await t.http
        .patch(`/v1/admin/hosts/${HOST}`)
        .set(t.admin)
        .send({ options: { tool: 'vzctl' } })
        .expect(200);
    }
    await release(second.id);
  });

  it('with recycle: destroy, destroys the released container on the host and replaces it', async () => {
    await t.http
      .patch(`/v1/admin/pools/${POOL}`)
      .set(t.admin)
      .send({ recycle: 'destroy' })
      .expect(200);
    try {
      const l = await lease();
      const [c] = l.containers;
      await release(l.id);
      const status = await settle(t, POOL);
      expect(status).toMatchObject({ ready: 2, leased: 0, failed: 0 });
      expect(await container(t, c.id)).toMatchObject({ state: 'destroyed' });
      expect(fake.find(c.name)).toBeNull();
      expect(vzlistNames(fake)).not.toContain(c.name);
      const ready = await containers(t, POOL, 'ready');
      expect(ready.map((x) => x.id)).not.toContain(c.id);
      for (const x of ready) expect(fake.find(x.name)).toMatchObject({ state: 'running' });
    } finally {
      await t.http
        .patch(`/v1/admin/pools/${POOL}`)
        .set(t.admin)
        .send({ recycle: 'reset' })
        .expect(200);
    }
  });

  it('retries a reset while another vzctl holds the container lock (exit 9), and finishes once it is let go', async () => {
    const l = await lease();
    const [c] = l.containers;
    const unlock = fake.holdLock(c.name);
    let pass: Promise<void> | undefined;
    try {
      await release(l.id);
      pass = t.reconcile();
      await sleep(700);
      // Still locked out: nothing done on the host yet, and not handed out meanwhile.
      expect(await container(t, c.id)).toMatchObject({ state: 'recycling' });
      expect(fake.find(c.name)).toMatchObject({ state: 'running' });
    } finally {
      unlock();
    }
    await pass;
    expect(await container(t, c.id)).toMatchObject({ state: 'ready', error: null });
    expect(fake.find(c.name)).toMatchObject({ state: 'running' });
    expect(await eventTypes(t, c.id)).not.toContain('container.failed');
  });

  it('fails a reset whose lock is held for too long; the container is failed, destroyed and replaced, never leased twice', async () => {
    const l = await lease();
    const [c] = l.containers;
    const unlock = fake.holdLock(c.name);
    let pass: Promise<void> | undefined;
    try {
      await release(l.id);
      pass = t.reconcile();
      // The driver gives up after its bounded retries (about 9 s with the default backoff).
      const failed = await until(
        `${c.name} to fail`,
        async () => {
          const now = await container(t, c.id);
          return now.state === 'failed' ? now : undefined;
        },
        25_000,
        200,
      );
      expect(failed.error).toMatch(/lock/i);
      // Neither recycling nor failed is leasable: only the other container is ready.
      const exhausted = await t.http
        .post('/v1/leases')
        .set(ci)
        .send({ pool: POOL, count: 2, waitSeconds: 0 })
        .expect(503);
      expect(exhausted.body.code).toBe('pool_exhausted');
    } finally {
      unlock();
    }
    await pass;
    const status = await settle(t, POOL);
    expect(status).toMatchObject({ ready: 2, leased: 0 });
    await until('the failed container to be destroyed', async () => {
      if ((await container(t, c.id)).state === 'destroyed') return true;
      await t.reconcile();
      return false;
    });
    expect(fake.find(c.name)).toBeNull();
    expect(vzlistNames(fake)).not.toContain(c.name);
    const types = await eventTypes(t, c.id);
    expect(types.filter((x) => x === 'container.leased')).toHaveLength(1);
    expect(types).toEqual(expect.arrayContaining(['container.failed', 'container.destroyed']));
    // Ready once (its provisioning), never again after the lease.
    expect(types.filter((x) => x === 'container.ready')).toHaveLength(1);
    expect((await containers(t, POOL, 'ready')).map((x) => x.id)).not.toContain(c.id);
  });

  it('treats a container already gone from the host as destroyed, on retire and on release, without a failure loop', async () => {
    // Retire (admin destroy) of a ready container someone removed on the host.
    const [victim] = await containers(t, POOL, 'ready');
    removeOnHost(fake, victim.name);
    await t.http.delete(`/v1/admin/containers/${victim.id}`).set(t.admin).expect(200);
    await t.reconcile();
    expect(await container(t, victim.id)).toMatchObject({ state: 'destroyed' });

    // Release of a leased container that vanished: the reset cannot work, the container
    // ends destroyed in one pass and stays so; nothing keeps retrying it.
    const l = await lease();
    const [c] = l.containers;
    removeOnHost(fake, c.name);
    await release(l.id);
    await t.reconcile();
    expect(await container(t, c.id)).toMatchObject({ state: 'destroyed' });
    const eventsBefore = await eventTypes(t, c.id);
    const status = await settle(t, POOL);
    expect(status).toMatchObject({ ready: 2, failed: 0, recycling: 0 });
    await t.reconcile();
    expect(await eventTypes(t, c.id)).toEqual(eventsBefore);
    expect(eventsBefore.filter((x) => x === 'container.destroyed')).toHaveLength(1);
    expect(await hostView(t, HOST)).toMatchObject({ health: 'up' });
  });

  it('marks a host whose tools keep failing down (circuit breaker) and places nothing on it until it is back', async () => {
    const l = await lease();
    const [c] = l.containers;
    shim.setBroken(true);
    await release(l.id);
    await t.reconcile(); // the reset fails, and so does the cleanup of the failed container
    await t.reconcile(); // the backfill's clone fails: the third failure in a row
    const down = await hostView(t, HOST);
    expect(down.health).toBe('down');
    expect(down.lastError).toMatch(/exited 5: Unable to open \/dev\/vzctl/);
    expect(await container(t, c.id)).toMatchObject({ state: 'failed' });

    // Down: however many passes (past the pool's own launch backoff), nothing new is placed.
    const before = (await containers(t, POOL)).length;
    for (let i = 0; i < 2; i++) {
      await sleep(1100);
      await t.reconcile();
    }
    expect((await containers(t, POOL)).length).toBe(before);
    expect(await poolStatus(t, POOL)).toMatchObject({ ready: 1, provisioning: 0 });

    // Back: the tools work again and an operator re-enables the host.
    shim.setBroken(false);
    await t.http
      .patch(`/v1/admin/hosts/${HOST}`)
      .set(t.admin)
      .send({ state: 'active' })
      .expect(200);
    expect(await hostView(t, HOST)).toMatchObject({ health: 'up' });
    await until(
      'the pool to refill and the failed containers to go',
      async () => {
        await t.reconcile();
        const s = await poolStatus(t, POOL);
        return s.ready === 2 && s.failed === 0 && s.provisioning === 0 ? s : undefined;
      },
      20_000,
      250,
    );
    expect(await container(t, c.id)).toMatchObject({ state: 'destroyed' });
    expect(fake.find(c.name)).toBeNull();
    for (const x of await containers(t, POOL, 'ready')) {
      expect(fake.find(x.name)).toMatchObject({ state: 'running' });
    }
  });

  it('destroys an unknown wp- container after two orphan scans, and never touches one that is not ours', async () => {
    // The orphan scan runs at most every 10 s; the first one saw the orphan during setup.
    const wait = firstScanAt + 10_200 - Date.now();
    if (wait > 0) await sleep(wait);
    await t.reconcile();
    expect(fake.find(ORPHAN)).toBeNull();
    expect(vzlistNames(fake)).not.toContain(ORPHAN);
    expect(fake.find(FOREIGN)).not.toBeNull();
    expect(fake.find('wpgolden-centos-v1')).not.toBeNull();
    const ready = await containers(t, POOL, 'ready');
    expect(ready).toHaveLength(2);
    for (const x of ready) expect(fake.find(x.name)).toMatchObject({ state: 'running' });
  });
});

describeWith(
  ['postgres', 'redis'],
  'OpenVZ: a new leader cleans up after a dead one [postgres]',
  () => {
    const POOL = 'vz';
    let fake: FakeOpenVzHost;
    let shim: ToolShim;
    let a: TestApp | undefined;
    let b: TestApp | undefined;
    let savedPath: string | undefined;

    beforeAll(() => {
      fake = new FakeOpenVzHost('vz7');
      fake.addOsTemplate(OSTEMPLATE);
      shim = new ToolShim(fake);
      savedPath = process.env.PATH;
      process.env.PATH = shim.path(savedPath ?? '');
    });

    afterAll(async () => {
      shim?.holdStarts(false);
      for (const name of shim?.held() ?? []) shim.releaseStart(name);
      await b?.close();
      await a?.close(); // drops the scratch database
      process.env.PATH = savedPath;
      shim?.cleanup();
      fake?.cleanup();
    });

    it('fails a provisioning container whose worker died between clone and start, destroys the clone and refills', async () => {
      a = await startTestApp('postgres');
      await setUpOpenVz(a, { host: 'ovz-p', tool: 'prlctl', pool: POOL, minReady: 1 });
      const [existing] = await containers(a, POOL, 'ready');

      // Leader A clones a second slot, then stalls before starting it.
      shim.holdStarts(true);
      await a.http
        .patch(`/v1/admin/pools/${POOL}`)
        .set(a.admin)
        .send({ minReady: 2, maxReady: 2 })
        .expect(200);
      const stalled = a.reconcile();
      const name = await until('a start to be held', async () => shim.held()[0]);
      shim.holdStarts(false);
      const [orphaned] = (await containers(a, POOL, 'provisioning')).filter((c) => c.name === name);
      expect(orphaned).toBeDefined();
      const cloned = fake.find(name)!;
      expect(cloned).toMatchObject({ state: 'stopped', ip: [orphaned.ip] });
      expect(cloned.snapshots).toHaveLength(1);

      // A dies as leader: its session (and with it the advisory lock) is gone.
      const pg = new Client({ connectionString: TEST_DATABASE_URL });
      await pg.connect();
      try {
        const dbName = new URL(a.databaseUrl!).pathname.slice(1);
        const killed = await pg.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'warmpool-leader'`,
          [dbName],
        );
        expect(killed.rows).toHaveLength(1);
        await pg.query('SELECT pg_terminate_backend($1)', [killed.rows[0].pid]);
        await until('the old leader session to end', async () => {
          const left = await pg.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [
            killed.rows[0].pid,
          ]);
          return left.rowCount === 0;
        });
      } finally {
        await pg.end();
      }

      // B takes over on the same database: the stalled provision is nobody's any more.
      b = await startTestApp('postgres', { databaseUrl: a.databaseUrl });
      const bApp = b;
      await until('B to lead and clean up', async () => {
        await bApp.reconcile();
        return (await container(bApp, orphaned.id)).state === 'destroyed';
      });
      const gone = await container(b, orphaned.id);
      expect(gone.error).toMatch(/stuck|worker is gone/);
      expect(fake.find(name)).toBeNull();
      expect(vzlistNames(fake)).not.toContain(name);
      const status = await settle(b, POOL);
      expect(status).toMatchObject({ ready: 2, provisioning: 0, failed: 0 });
      const ready = await containers(b, POOL, 'ready');
      expect(ready.map((c) => c.id)).toContain(existing.id);
      expect(ready.map((c) => c.id)).not.toContain(orphaned.id);
      for (const c of ready) expect(fake.find(c.name)).toMatchObject({ state: 'running' });

      // Through prlctl exec --without-shell, argv stays literal and exit codes are the command's.
      const l = (
        await b.http
          .post('/v1/leases')
          .set(b.admin)
          .send({ pool: POOL, waitSeconds: 0 })
          .expect(201)
      ).body as LeaseBody;
      const run = async (command: string[]): Promise<{ exitCode: number; stdout: string }> =>
        (
          await bApp.http
            .post(`/v1/leases/${l.id}/exec`)
            .set(bApp.admin)
            .send({ command })
            .expect(200)
        ).body;
      expect(await run(['sh', '-c', 'echo $0', '; rm -rf /'])).toMatchObject({
        exitCode: 0,
        stdout: '; rm -rf /\n',
      });
      expect((await run(['sh', '-c', 'exit 1'])).exitCode).toBe(1);
      await b.http.delete(`/v1/leases/${l.id}`).set(b.admin).expect(200);
      await settle(b, POOL);

      // The old worker wakes up late: its start fails on a container that is gone, and the
      // guarded transitions keep it from bringing the row back.
      shim.releaseStart(name);
      await stalled;
      expect(await container(b, orphaned.id)).toMatchObject({ state: 'destroyed' });
      expect(fake.find(name)).toBeNull();
      expect(await poolStatus(b, POOL)).toMatchObject({ ready: 2, provisioning: 0 });
    });
  },
);

describe('OpenVZ pools on a legacy vzctl 4.x host [embedded]', () => {
  const POOL = 'old';
  let fake: FakeOpenVzHost;
  let t: TestApp;
  let savedPath: string | undefined;

  beforeAll(async () => {
    fake = new FakeOpenVzHost('legacy');
    fake.addOsTemplate(OSTEMPLATE);
    savedPath = process.env.PATH;
    process.env.PATH = fake.path(savedPath ?? '');
    t = await startTestApp('embedded');
  });

  afterAll(async () => {
    await t?.close();
    process.env.PATH = savedPath;
    fake?.cleanup();
  });

  it('detects vzctl 4.x, makes each slot from the recipe with a numeric CT id, runs exec2 literally and resets', async () => {
    await setUpOpenVz(t, { host: 'ovz-old', tool: 'vzctl', pool: POOL, minReady: 1 });
    const [c] = await containers(t, POOL, 'ready');
    const onHost = fake.find(c.name)!;
    expect(onHost).toMatchObject({ state: 'running', ip: [c.ip], params: SAVED_LIMITS });
    expect(onHost.ctid).toMatch(/^\d+$/);
    expect(fake.find('wpgolden-centos-v1')?.ctid).toMatch(/^\d+$/);
    expect(readFileSync(join(fake.rootOf(c.name), 'etc/motd'), 'utf8')).toBe('ready\n');

    const l = (
      await t.http.post('/v1/leases').set(t.admin).send({ pool: POOL, waitSeconds: 0 }).expect(201)
    ).body as LeaseBody;
    const run = async (
      body: Record<string, unknown>,
    ): Promise<{ exitCode: number; stdout: string }> =>
      (await t.http.post(`/v1/leases/${l.id}/exec`).set(t.admin).send(body).expect(200)).body;
    const hostile = ["it's", '$(touch pwned)', '`touch pwned`', 'a\nb', '', ';|&'];
    expect((await run({ command: ['printf', '[%s]\\n', ...hostile] })).stdout).toBe(
      hostile.map((w) => `[${w}]\n`).join(''),
    );
    expect((await run({ command: ['sh', '-c', 'echo $0', '; rm -rf /'] })).stdout).toBe(
      '; rm -rf /\n',
    );
    expect((await run({ command: ['sh', '-c', 'exit 7'] })).exitCode).toBe(7);
    await run({ command: ['sh', '-c', 'echo dirty > build.log'] });
    expect(existsSync(join(fake.rootOf(c.name), 'pwned'))).toBe(false);
    expect(existsSync(join(fake.rootOf(c.name), 'build.log'))).toBe(true);

    await t.http.delete(`/v1/leases/${l.id}`).set(t.admin).expect(200);
    await settle(t, POOL);
    expect(await container(t, c.id)).toMatchObject({ state: 'ready' });
    expect(fake.find(c.name)).toMatchObject({ ctid: onHost.ctid, state: 'running' });
    expect(existsSync(join(fake.rootOf(c.name), 'build.log'))).toBe(false);
  });
});
