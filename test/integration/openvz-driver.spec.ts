import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommandRunner, RunOptions, RunResult } from '../../src/drivers/command-runner';
import {
  ContainerSpec,
  DriverError,
  ExecRequest,
  HostTarget,
  TemplateBuildSpec,
} from '../../src/drivers/container-driver';
import { LocalCommandRunner } from '../../src/drivers/local-command-runner';
import { pristineSnapshotId } from '../../src/drivers/openvz/ctid';
import { OpenVzDriver, OpenVzTunables } from '../../src/drivers/openvz/openvz.driver';
import { FakeFlavor, FakeOpenVzHost } from '../fakes/openvz/fake-host';

/** Passes commands to a LocalCommandRunner and remembers them, with how many overlapped. */
class RecordingRunner extends CommandRunner {
  readonly address = 'local';
  readonly commands: string[][] = [];
  private readonly inner = new LocalCommandRunner();
  private readonly inFlight = new Map<string, number>();
  readonly peakPerContainer = new Map<string, number>();
  peakOverall = 0;
  private overall = 0;

  async run(argv: readonly string[], options?: RunOptions): Promise<RunResult> {
    this.commands.push([...argv]);
    const ct = argv[2] ?? '';
    const now = (this.inFlight.get(ct) ?? 0) + 1;
    this.inFlight.set(ct, now);
    this.peakPerContainer.set(ct, Math.max(now, this.peakPerContainer.get(ct) ?? 0));
    this.peakOverall = Math.max(++this.overall, this.peakOverall);
    try {
      return await this.inner.run(argv, options);
    } finally {
      this.inFlight.set(ct, (this.inFlight.get(ct) ?? 1) - 1);
      this.overall--;
    }
  }

  ran(...prefix: string[]): string[][] {
    return this.commands.filter((argv) => prefix.every((word, i) => argv[i] === word));
  }
}

const FAST: Partial<OpenVzTunables> = {
  lockBackoffMs: 50,
  lockBackoffMaxMs: 400,
  lockRetries: 8,
  statusPollMs: 20,
  startTimeoutMs: 10_000,
};

const HOSTILE = [
  "it's",
  '"double"',
  '$(touch pwned-subst)',
  '`touch pwned-tick`',
  'line one\nline two',
  '',
  '  padded  ',
  '*',
  '$HOME',
  ';|&<>',
  "'; touch pwned-quote; '",
];

function template(version: number, setup: string[][] = []): TemplateBuildSpec {
  return {
    name: 'busybox',
    version,
    source: { ostemplate: 'centos-7-x86_64' },
    setup: [['sh', '-c', 'echo ready > etc/motd'], ...setup],
  };
}

function slot(name: string, golden: string, ip: string | null = '10.88.0.17'): ContainerSpec {
  return {
    name,
    golden,
    ip,
    resources: {
      cpus: 2,
      memoryMb: 512,
      swapMb: 0,
      diskMb: 2048,
      cpuLimitPercent: 150,
      iops: 300,
      network: 'isolated',
    },
  };
}

function request(command: string[], extra: Partial<ExecRequest> = {}): ExecRequest {
  return { command, timeoutMs: 10_000, maxOutputBytes: 1024 * 1024, ...extra };
}

/** A fake host on PATH for the duration of a describe block. */
function fakeHost(flavor: FakeFlavor, options: Record<string, unknown> = {}) {
  const ctx = {} as {
    fake: FakeOpenVzHost;
    runner: RecordingRunner;
    host: HostTarget;
    driver: OpenVzDriver;
  };
  let savedPath: string | undefined;
  beforeAll(() => {
    ctx.fake = new FakeOpenVzHost(flavor);
    ctx.fake.addOsTemplate('centos-7-x86_64');
    savedPath = process.env.PATH;
    process.env.PATH = ctx.fake.path(savedPath);
    ctx.runner = new RecordingRunner();
    ctx.host = {
      name: `fake-${flavor}`,
      address: 'local',
      options,
      subnet: '10.88.0.0/22',
      gateway: '10.88.0.1',
      prefixLength: 22,
      runner: ctx.runner,
    };
    ctx.driver = new OpenVzDriver(FAST);
  });
  afterAll(() => {
    process.env.PATH = savedPath;
    ctx.fake.cleanup();
  });
  return ctx;
}

async function rejection(promise: Promise<unknown>): Promise<DriverError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DriverError);
  return err as DriverError;
}

describe('OpenVzDriver on OpenVZ 7 (vzctl)', () => {
  const ctx = fakeHost('vz7');
  const name = 'wp-cycle';
  let ref: string;

  it('is available and detects vzctl 7', async () => {
    await expect(ctx.driver.isAvailable(ctx.host)).resolves.toBe(true);
    await ctx.driver.prepareHost(ctx.host);
  });

  it('builds a stopped golden with its setup applied', async () => {
    ({ ref } = await ctx.driver.buildTemplate(ctx.host, template(1)));
    expect(ref).toBe('wpgolden-busybox-v1');
    expect(ctx.fake.find(ref)).toMatchObject({ state: 'stopped' });
    expect(readFileSync(join(ctx.fake.rootOf(ref), 'etc/motd'), 'utf8')).toBe('ready\n');
    expect(ctx.runner.ran('vzctl', 'create')[0]).toEqual([
      'vzctl',
      'create',
      expect.stringMatching(/^[0-9a-f-]{36}$/),
      '--ostemplate',
      'centos-7-x86_64',
      '--layout',
      'ploop',
      '--name',
      ref,
    ]);
  });

  it('clones a slot with its limits, its address and a pristine snapshot', async () => {
    await ctx.driver.clone(ctx.host, slot(name, ref));
    const ct = ctx.fake.find(name)!;
    expect(ct).toMatchObject({
      state: 'stopped',
      ip: ['10.88.0.17'],
      params: {
        RAM: '512M',
        SWAP: '0M',
        CPUS: '2',
        CPULIMIT: '150',
        DISKSPACE: '2048M',
        IOPSLIMIT: '300',
      },
    });
    expect(ct.snapshots).toEqual([
      expect.objectContaining({ guid: `{${pristineSnapshotId(name)}}`, dump: false }),
    ]);
    expect(ctx.runner.ran('prlctl', 'clone')).toEqual([['prlctl', 'clone', ref, '--name', name]]);
  });

  it('starts, describes and health-checks it; starting it again succeeds', async () => {
    await ctx.driver.start(ctx.host, slot(name, ref));
    await ctx.driver.start(ctx.host, slot(name, ref));
    await expect(ctx.driver.describe(ctx.host, name)).resolves.toEqual({
      state: 'running',
      ip: '10.88.0.17',
    });
    await ctx.driver.healthcheck(ctx.host, name);
  });

  it('passes argv literally, however hostile', async () => {
    const echo = await ctx.driver.exec(
      ctx.host,
      name,
      request(['sh', '-c', 'echo $0', '; rm -rf /']),
    );
    expect(echo).toMatchObject({ exitCode: 0, stdout: '; rm -rf /\n', timedOut: false });
    const printed = await ctx.driver.exec(
      ctx.host,
      name,
      request(['printf', '[%s]\\n', ...HOSTILE]),
    );
    expect(printed.stdout).toBe(HOSTILE.map((w) => `[${w}]\n`).join(''));
    for (const file of ['pwned-subst', 'pwned-tick', 'pwned-quote']) {
      expect(existsSync(join(ctx.fake.rootOf(name), file))).toBe(false);
    }
  });

  it('passes env, stdin and exit codes, streams, caps output and times out', async () => {
    const env = await ctx.driver.exec(
      ctx.host,
      name,
      request(['sh', '-c', 'printf %s "$GREETING"'], { env: { GREETING: "hi $(id) `id` '" } }),
    );
    expect(env.stdout).toBe("hi $(id) `id` '");
    const cat = await ctx.driver.exec(ctx.host, name, request(['cat'], { stdin: 'from stdin\n' }));
    expect(cat.stdout).toBe('from stdin\n');
    // 31 is also vzctl's "not running"; the container is running, so it is the command's.
    const exit31 = await ctx.driver.exec(ctx.host, name, request(['sh', '-c', 'exit 31']));
    expect(exit31.exitCode).toBe(31);
    const chunks: Record<string, string[]> = { stdout: [], stderr: [] };
    const streamed = await ctx.driver.exec(
      ctx.host,
      name,
      request(['sh', '-c', 'echo one; echo two >&2; echo three']),
      (stream, data) => chunks[stream].push(data),
    );
    expect(chunks.stdout.join('')).toBe('one\nthree\n');
    expect(chunks.stderr.join('')).toBe('two\n');
    expect(streamed.stdout).toBe('one\nthree\n');
    expect(streamed.stderr).toBe('two\n');
    const capped = await ctx.driver.exec(
      ctx.host,
      name,
      request(['seq', '1000'], { maxOutputBytes: 10 }),
    );
    expect(capped).toMatchObject({ truncated: true, stdout: '1\n2\n3\n4\n5\n' });
    const slow = await ctx.driver.exec(
      ctx.host,
      name,
      request(['sleep', '10'], { timeoutMs: 300 }),
    );
    expect(slow).toMatchObject({ timedOut: true, exitCode: null });
  });

  it('resets to the pristine snapshot: the build leftovers are gone, the golden setup stays', async () => {
    const dirty = await ctx.driver.exec(
      ctx.host,
      name,
      request(['sh', '-c', 'echo leftovers > build.log && rm etc/motd']),
    );
    expect(dirty.exitCode).toBe(0);
    expect(existsSync(join(ctx.fake.rootOf(name), 'build.log'))).toBe(true);
    await ctx.driver.reset(ctx.host, slot(name, ref));
    expect(existsSync(join(ctx.fake.rootOf(name), 'build.log'))).toBe(false);
    expect(readFileSync(join(ctx.fake.rootOf(name), 'etc/motd'), 'utf8')).toBe('ready\n');
    await expect(ctx.driver.describe(ctx.host, name)).resolves.toMatchObject({ state: 'running' });
    expect(ctx.runner.ran('vzctl', 'snapshot-switch').at(-1)).toEqual([
      'vzctl',
      'snapshot-switch',
      name,
      '--id',
      pristineSnapshotId(name),
      '--skip-resume',
    ]);
  });

  it('retries while another vzctl holds the lock, and goes on once it is released', async () => {
    const release = ctx.fake.holdLock(name);
    const timer = setTimeout(release, 300);
    const before = ctx.runner.commands.length;
    const started = Date.now();
    try {
      await ctx.driver.reset(ctx.host, slot(name, ref));
    } finally {
      clearTimeout(timer);
      release();
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    const stops = ctx.runner.commands.slice(before).filter((c) => c[1] === 'stop');
    expect(stops.length).toBeGreaterThan(1);
    await expect(ctx.driver.describe(ctx.host, name)).resolves.toMatchObject({ state: 'running' });
  });

  it('gives up on a lock held forever with a retryable DriverError after bounded retries', async () => {
    const impatient = new OpenVzDriver({ ...FAST, lockRetries: 2, lockBackoffMs: 20 });
    const release = ctx.fake.holdLock(name);
    try {
      const before = ctx.runner.commands.length;
      const err = await rejection(impatient.reset(ctx.host, slot(name, ref)));
      expect(err).toMatchObject({ op: 'reset', retryable: true });
      expect(err.message).toMatch(/still locked after 3 attempts: Cannot lock the Container/);
      const stops = ctx.runner.commands.slice(before).filter((c) => c[1] === 'stop');
      expect(stops).toHaveLength(3);
    } finally {
      release();
    }
  });

  it('queues its own operations on a container instead of tripping over vzctl locks', async () => {
    const strict = new OpenVzDriver({ ...FAST, lockRetries: 0 });
    await strict.clone(ctx.host, slot('wp-other', ref, '10.88.0.18'));
    const spec = slot(name, ref);
    const other = slot('wp-other', ref, '10.88.0.18');
    await Promise.all([
      strict.reset(ctx.host, spec),
      strict.start(ctx.host, spec),
      strict.reset(ctx.host, spec),
      strict.start(ctx.host, other),
      strict.reset(ctx.host, other),
    ]);
    expect(ctx.runner.peakPerContainer.get(name)).toBe(1);
    expect(ctx.runner.peakPerContainer.get('wp-other')).toBe(1);
    expect(ctx.runner.peakOverall).toBeGreaterThan(1);
    await strict.destroy(ctx.host, 'wp-other');
  });

  it('refuses exec in a stopped container rather than report vzctl 31 as the command’s', async () => {
    expect(ctx.fake.runTool('vzctl', ['stop', name]).code).toBe(0);
    const err = await rejection(ctx.driver.exec(ctx.host, name, request(['true'])));
    expect(err).toMatchObject({ op: 'exec', retryable: false });
    expect(err.message).toMatch(/not running/);
    await ctx.driver.start(ctx.host, slot(name, ref));
  });

  it('maps a refused value (21) to a non-retryable DriverError', async () => {
    const err = await rejection(ctx.driver.start(ctx.host, slot('wp-no-such', ref)));
    expect(err).toMatchObject({ op: 'start', retryable: false });
    expect(err.message).toMatch(/vzctl start wp-no-such exited 21: Invalid ctid is specified/);
  });

  it('runs against a strict fake: an unknown flag is refused like vzctl does', async () => {
    const result = await new LocalCommandRunner().run([
      'vzctl',
      'set',
      name,
      '--no-such-flag',
      '1',
      '--save',
    ]);
    expect(result.exitCode).toBe(21);
    expect(result.stderr).toBe(`${name}: unrecognized option '--no-such-flag'\n`);
  });

  it('destroys it (twice, and a container that never existed) and lists only wp- containers', async () => {
    expect(await ctx.driver.list(ctx.host)).toEqual([name]);
    await ctx.driver.destroy(ctx.host, name);
    await ctx.driver.destroy(ctx.host, name);
    await ctx.driver.destroy(ctx.host, 'wp-never-existed');
    expect(await ctx.driver.list(ctx.host)).toEqual([]);
    await expect(ctx.driver.describe(ctx.host, name)).resolves.toEqual({
      state: 'missing',
      ip: null,
    });
    expect(ctx.fake.find(ref)).not.toBeNull();
    await ctx.driver.removeTemplate(ctx.host, ref);
    expect(ctx.fake.find(ref)).toBeNull();
  });

  it('refuses to touch containers that are not warmpool slots', async () => {
    const err = await rejection(ctx.driver.destroy(ctx.host, 'production-db'));
    expect(err).toMatchObject({ op: 'destroy', retryable: false });
  });

  it('fails a build whose setup fails, and leaves no golden behind', async () => {
    const err = await rejection(
      ctx.driver.buildTemplate(ctx.host, template(2, [['sh', '-c', 'echo nope >&2; exit 3']])),
    );
    expect(err).toMatchObject({ op: 'buildTemplate', retryable: false });
    expect(err.message).toMatch(/setup command 2 exited 3: nope/);
    expect(ctx.fake.find('wpgolden-busybox-v2')).toBeNull();
  });
});

describe('OpenVzDriver on OpenVZ 7 with prlctl', () => {
  const ctx = fakeHost('vz7', { tool: 'prlctl' });
  const name = 'wp-prl';

  it('runs the lifecycle through prlctl and snapshots through vzctl', async () => {
    await expect(ctx.driver.isAvailable(ctx.host)).resolves.toBe(true);
    const { ref } = await ctx.driver.buildTemplate(ctx.host, template(1));
    await ctx.driver.clone(ctx.host, slot(name, ref));
    await ctx.driver.start(ctx.host, slot(name, ref));
    await ctx.driver.start(ctx.host, slot(name, ref));
    await ctx.driver.healthcheck(ctx.host, name);
    const printed = await ctx.driver.exec(
      ctx.host,
      name,
      request(['printf', '[%s]\\n', ...HOSTILE], { env: { A: '$(x)' } }),
    );
    expect(printed.stdout).toBe(HOSTILE.map((w) => `[${w}]\n`).join(''));
    await ctx.driver.exec(ctx.host, name, request(['sh', '-c', 'echo x > build.log']));
    await ctx.driver.reset(ctx.host, slot(name, ref));
    expect(existsSync(join(ctx.fake.rootOf(name), 'build.log'))).toBe(false);
    await expect(ctx.driver.describe(ctx.host, name)).resolves.toEqual({
      state: 'running',
      ip: '10.88.0.17',
    });
    await ctx.driver.destroy(ctx.host, name);
    await ctx.driver.destroy(ctx.host, name);
    expect(await ctx.driver.list(ctx.host)).toEqual([]);

    expect(ctx.runner.ran('prlctl', 'start', name)).toHaveLength(2);
    // One for the reset, one for the destroy; the second destroy finds nothing to stop.
    expect(ctx.runner.ran('prlctl', 'stop', name)).toEqual([
      ['prlctl', 'stop', name, '--kill'],
      ['prlctl', 'stop', name, '--kill'],
    ]);
    expect(ctx.runner.ran('prlctl', 'delete', name)).toHaveLength(1);
    expect(ctx.runner.ran('prlctl', 'exec', name, '--without-shell', 'env', 'A=$(x)')).toHaveLength(
      1,
    );
    expect(ctx.runner.ran('vzctl', 'start')).toEqual([]);
    expect(ctx.runner.ran('vzctl', 'snapshot-switch', name)).toHaveLength(1);
  });
});

describe('OpenVzDriver on legacy vzctl 4.x', () => {
  const ctx = fakeHost('legacy');
  const name = 'wp-old';

  it('detects vzctl 4.x and has no prlctl mode', async () => {
    await expect(ctx.driver.isAvailable(ctx.host)).resolves.toBe(true);
    const prl = { ...ctx.host, options: { tool: 'prlctl' } };
    await expect(ctx.driver.isAvailable(prl)).resolves.toBe(false);
    const err = await rejection(ctx.driver.prepareHost(prl));
    expect(err).toMatchObject({ op: 'config', retryable: false });
  });

  it('runs the whole cycle with numeric CT ids and exec2 shell strings', async () => {
    const { ref } = await ctx.driver.buildTemplate(ctx.host, template(1));
    expect(ref).toMatch(/^wpgolden-busybox-v1#/);
    expect(ctx.fake.find('wpgolden-busybox-v1')?.ctid).toMatch(/^\d+$/);

    await ctx.driver.clone(ctx.host, slot(name, ref));
    const ct = ctx.fake.find(name)!;
    expect(ct.ctid).toMatch(/^\d+$/);
    expect(readFileSync(join(ctx.fake.rootOf(name), 'etc/motd'), 'utf8')).toBe('ready\n');
    expect(ct.params).toMatchObject({ RAM: '512M', IOPSLIMIT: '300' });

    await ctx.driver.start(ctx.host, slot(name, ref));
    const echo = await ctx.driver.exec(
      ctx.host,
      name,
      request(['sh', '-c', 'echo $0', '; rm -rf /']),
    );
    expect(echo.stdout).toBe('; rm -rf /\n');
    const printed = await ctx.driver.exec(
      ctx.host,
      name,
      request(['printf', '[%s]\\n', ...HOSTILE], { env: { GREETING: "it's $(id)" } }),
    );
    expect(printed.stdout).toBe(HOSTILE.map((w) => `[${w}]\n`).join(''));
    const exec2 = ctx.runner.ran('vzctl', 'exec2', name);
    expect(exec2.length).toBeGreaterThan(0);
    expect(exec2.every((argv) => argv.length === 4)).toBe(true);
    for (const file of ['pwned-subst', 'pwned-tick', 'pwned-quote']) {
      expect(existsSync(join(ctx.fake.rootOf(name), file))).toBe(false);
    }
    const env = await ctx.driver.exec(
      ctx.host,
      name,
      request(['sh', '-c', 'printf %s "$GREETING"'], { env: { GREETING: "it's $(id)" } }),
    );
    expect(env.stdout).toBe("it's $(id)");

    await ctx.driver.exec(ctx.host, name, request(['sh', '-c', 'echo x > build.log']));
    await ctx.driver.reset(ctx.host, slot(name, ref));
    expect(existsSync(join(ctx.fake.rootOf(name), 'build.log'))).toBe(false);
    expect(ctx.runner.ran('vzctl', 'snapshot-switch', name).at(-1)).not.toContain('--skip-resume');

    expect(await ctx.driver.list(ctx.host)).toEqual([name]);
    await ctx.driver.destroy(ctx.host, name);
    await ctx.driver.destroy(ctx.host, name);
    await ctx.driver.removeTemplate(ctx.host, ref);
    expect(await ctx.driver.list(ctx.host)).toEqual([]);
  });

  it('can use exec3, which vzctl 4.x has although its manual does not list it', async () => {
    const exec3 = { ...ctx.host, options: { execMode: 'exec3' } };
    const { ref } = await ctx.driver.buildTemplate(exec3, template(2));
    await ctx.driver.clone(exec3, slot('wp-exec3', ref, null));
    await ctx.driver.start(exec3, slot('wp-exec3', ref, null));
    const res = await ctx.driver.exec(
      exec3,
      'wp-exec3',
      request(['printf', '[%s]\\n', ...HOSTILE]),
    );
    expect(res.stdout).toBe(HOSTILE.map((w) => `[${w}]\n`).join(''));
    expect(ctx.runner.ran('vzctl', 'exec3', 'wp-exec3').length).toBeGreaterThan(0);
    await expect(ctx.driver.describe(exec3, 'wp-exec3')).resolves.toEqual({
      state: 'running',
      ip: null,
    });
    await ctx.driver.destroy(exec3, 'wp-exec3');
  });
});
