import {
  CommandRunner,
  CommandStartError,
  RunOptions,
  RunResult,
} from '../../src/drivers/command-runner';
import { ContainerSpec, DriverError, HostTarget } from '../../src/drivers/container-driver';
import { LxcDriver } from '../../src/drivers/lxc/lxc.driver';

type Reply = Partial<RunResult> | Error;

/** Records every argv and answers from a script; anything unscripted succeeds silently. */
class ScriptedRunner extends CommandRunner {
  readonly address = 'local';
  readonly calls: { argv: string[]; options: RunOptions }[] = [];

  constructor(private readonly reply: (argv: string[]) => Reply | undefined = () => undefined) {
    super();
  }

  async run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    this.calls.push({ argv: [...argv], options });
    const reply = this.reply([...argv]) ?? {};
    if (reply instanceof Error) throw reply;
    return {
      exitCode: 0,
      signal: null,
      stdout: '',
      stderr: '',
      timedOut: false,
      truncated: false,
      durationMs: 1,
      ...reply,
    };
  }
}

function hostWith(runner: CommandRunner, options: Record<string, unknown> = {}): HostTarget {
  return {
    name: 'unit',
    address: 'local',
    options: { lxcPath: '/srv/lxc', ...options },
    subnet: '10.231.0.0/24',
    gateway: '10.231.0.1',
    prefixLength: 24,
    runner,
  };
}

const spec = (overrides: Partial<ContainerSpec> = {}): ContainerSpec => ({
  name: 'wp-unit-1',
  golden: 'wpt-busybox-v1',
  ip: '10.231.0.9',
  resources: { network: 'isolated' },
  ...overrides,
});

async function rejection(promise: Promise<unknown>): Promise<DriverError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(DriverError);
    return err as DriverError;
  }
  throw new Error('expected a DriverError');
}

describe('LxcDriver input checks', () => {
  const driver = new LxcDriver();

  it.each([
    ['a name outside wp-', () => spec({ name: 'wpt-golden-v1' })],
    ['a name with a path in it', () => spec({ name: 'wp-../../etc' })],
    ['a golden that is not wpt-', () => spec({ golden: 'wp-other' })],
    ['an address outside the subnet', () => spec({ ip: '10.9.9.9' })],
    ['the gateway as address', () => spec({ ip: '10.231.0.1' })],
    ['an address that is not one', () => spec({ ip: '10.231.0.9; reboot' })],
    ['a bridged container without address', () => spec({ ip: null })],
    ['a zero memory limit', () => spec({ resources: { network: 'none', memoryMb: 0 } })],
  ])('refuses %s before running anything', async (_label, make) => {
    const runner = new ScriptedRunner();
    const err = await rejection(driver.clone(hostWith(runner), make()));
    expect(err.retryable).toBe(false);
    expect(err.op).toBe('clone');
    expect(runner.calls).toEqual([]);
  });

  it('refuses a bad lxcPath or bridge option before running anything', async () => {
    const runner = new ScriptedRunner();
    expect(
      (await rejection(driver.list(hostWith(runner, { lxcPath: 'relative' })))).retryable,
    ).toBe(false);
    const badBridge = hostWith(runner, { bridge: 'br0 up' });
    expect((await rejection(driver.prepareHost(badBridge))).retryable).toBe(false);
    expect(runner.calls).toEqual([]);
  });

  it('refuses bad env names, empty commands and NUL bytes in exec', async () => {
    const runner = new ScriptedRunner();
    const host = hostWith(runner);
    const req = { command: ['true'], timeoutMs: 1000, maxOutputBytes: 100 };
    await rejection(driver.exec(host, 'wp-a', { ...req, env: { 'X Y': '1' } }));
    await rejection(driver.exec(host, 'wp-a', { ...req, env: { X: 'a\0b' } }));
    await rejection(driver.exec(host, 'wp-a', { ...req, command: [] }));
    await rejection(driver.exec(host, 'wp-a', { ...req, command: ['echo', 'a\0b'] }));
    await rejection(driver.exec(host, 'wp-a', { ...req, timeoutMs: 0 }));
    expect(runner.calls).toEqual([]);
  });
});

describe('LxcDriver commands', () => {
  const driver = new LxcDriver();

  it('hands exec argv and env to lxc-attach word for word, with the caps and the sink', async () => {
    const runner = new ScriptedRunner((argv) =>
      argv[0] === 'lxc-attach' ? { stdout: 'out', stderr: 'err', exitCode: 3 } : undefined,
    );
    const seen: string[] = [];
    const result = await driver.exec(
      hostWith(runner),
      'wp-a',
      {
        command: ['sh', '-c', 'echo $0', '; rm -rf /'],
        env: { CI: 'a b $(c)' },
        stdin: 'in',
        timeoutMs: 1234,
        maxOutputBytes: 99,
      },
      (stream, data) => seen.push(`${stream}:${data}`),
    );
    expect(runner.calls[0].argv).toEqual([
      'lxc-attach',
      '-P',
      '/srv/lxc',
      '-n',
      'wp-a',
      '--clear-env',
      '-v',
      'CI=a b $(c)',
      '--',
      'sh',
      '-c',
      'echo $0',
      '; rm -rf /',
    ]);
    expect(runner.calls[0].options).toMatchObject({
      timeoutMs: 1234,
      maxOutputBytes: 99,
      stdin: 'in',
    });
    runner.calls[0].options.onStdout?.('x');
    expect(seen).toEqual(['stdout:x']);
    // The command's own failure is a result, not a DriverError.
    expect(result).toMatchObject({ exitCode: 3, stdout: 'out', stderr: 'err', timedOut: false });
  });

  it('reports a timed-out exec with no exit code', async () => {
    const runner = new ScriptedRunner(() => ({
      exitCode: null,
      signal: 'SIGKILL',
      timedOut: true,
    }));
    const result = await driver.exec(hostWith(runner), 'wp-a', {
      command: ['sleep', '9'],
      timeoutMs: 10,
      maxOutputBytes: 10,
    });
    expect(result).toMatchObject({ exitCode: null, timedOut: true });
  });

  it('turns lxc-attach failing on a stopped container into a DriverError', async () => {
    const runner = new ScriptedRunner((argv) => {
      if (argv[0] === 'lxc-attach') {
        return { exitCode: 1, stderr: 'lxc-attach: wp-a: attach.c: Failed to get init pid\n' };
      }
      if (argv[0] === 'lxc-info') return { stdout: 'State:          STOPPED\n' };
      return undefined;
    });
    const err = await rejection(
      driver.exec(hostWith(runner), 'wp-a', {
        command: ['true'],
        timeoutMs: 10,
        maxOutputBytes: 10,
      }),
    );
    expect(err.message).toMatch(/stopped/);
  });

  it('treats destroying a missing container as success', async () => {
    const runner = new ScriptedRunner((argv) => {
      if (argv[0] === 'lxc-destroy') return { exitCode: 1, stderr: 'Container is not defined\n' };
      if (argv[0] === 'lxc-info') return { exitCode: 1, stdout: "wp-a doesn't exist\n" };
      return undefined;
    });
    await driver.destroy(hostWith(runner), 'wp-a');
    expect(runner.calls.map((c) => c.argv[0])).toEqual(['lxc-destroy', 'lxc-info']);
  });

  it('lists only wp- containers and describes state and address', async () => {
    const runner = new ScriptedRunner((argv) => {
      if (argv[0] === 'lxc-ls') return { stdout: 'other\nwp-a\nwpt-busybox-v1\nwp-b\n' };
      if (argv[0] === 'lxc-info') return { stdout: 'State: RUNNING\nPID: 42\nIP: 10.231.0.9\n' };
      return undefined;
    });
    const host = hostWith(runner);
    expect(await driver.list(host)).toEqual(['wp-a', 'wp-b']);
    expect(await driver.describe(host, 'wp-a')).toEqual({ state: 'running', ip: '10.231.0.9' });
  });

  it('is unavailable without root or without the lxc tools', async () => {
    const notRoot = new ScriptedRunner((argv) =>
      argv[0] === 'id' ? { stdout: '1000\n' } : undefined,
    );
    expect(await driver.isAvailable(hostWith(notRoot))).toBe(false);
    const noTools = new ScriptedRunner((argv) =>
      argv[0] === 'id' ? { stdout: '0\n' } : new CommandStartError(argv[0], 'ENOENT'),
    );
    expect(await driver.isAvailable(hostWith(noTools))).toBe(false);
    const ready = new ScriptedRunner((argv) => (argv[0] === 'id' ? { stdout: '0\n' } : undefined));
    expect(await driver.isAvailable(hostWith(ready))).toBe(true);
  });

  it('maps a runner that cannot start a command to a retryable DriverError', async () => {
    const runner = new ScriptedRunner(() => new CommandStartError('ssh', 'connection refused'));
    const err = await rejection(driver.list(hostWith(runner)));
    expect(err).toMatchObject({ op: 'list', retryable: true });
  });
});
