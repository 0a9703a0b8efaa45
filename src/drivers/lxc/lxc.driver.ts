import { Injectable, Logger } from '@nestjs/common';
import { CommandStartError, RunOptions, RunResult } from '../command-runner';
import {
  ContainerDescription,
  ContainerDriver,
  ContainerSpec,
  DriverError,
  ExecRequest,
  ExecResult,
  ExecSink,
  HostTarget,
  NetworkMode,
  TemplateBuildSpec,
} from '../container-driver';
import {
  CgroupLayout,
  CgroupSetting,
  configKey,
  isDevicePath,
  limitSettings,
  parseBlockDevice,
  parseCgroupLayout,
  parseStatBlockDevice,
  resourcesProblem,
  settingApplied,
} from './cgroup';
import {
  BUSYBOX_RCS,
  CloneNetwork,
  GOLDEN_COMPLETE_MARKER,
  GoldenSource,
  LxcInfo,
  MAPPED_ID_COUNT,
  MAPPED_ROOT_ID,
  cloneUsesGolden,
  goldenConfig,
  goldenName,
  goldenSource,
  hasSubordinateRange,
  idmapLines,
  isContainerName,
  isEnvName,
  isGoldenName,
  lxcPathOption,
  networkLines,
  parseLxcInfo,
  renderCloneConfig,
  tail,
} from './lxc-config';
import {
  HostNetwork,
  bridgePortProblem,
  broadcastAddress,
  containerAddress,
  hostNetwork,
  nftRuleset,
  vethName,
} from './lxc-network';

const QUICK_MS = 15_000;
const COPY_MS = 60_000;
const CREATE_MS = 10 * 60_000;
const SETUP_COMMAND_MS = 30 * 60_000;
const WAIT_RUNNING_S = 30;
const STOP_S = 10;
const HEALTHCHECK_MS = 5_000;
const SETUP_OUTPUT_BYTES = 64 * 1024;
const MAPPED_OWNER = `${MAPPED_ROOT_ID}:${MAPPED_ROOT_ID}`;
const MAPPED_RANGE = `${MAPPED_ROOT_ID}-${MAPPED_ROOT_ID + MAPPED_ID_COUNT - 1}`;
const USERNS_MAP = `b:0:${MAPPED_ROOT_ID}:${MAPPED_ID_COUNT}`;
/**
 * Copies a rootfs directory into a golden with every owner shifted into the mapped range: the
 * extracting tar runs in a user namespace where the source's root is the golden's root. A pipe
 * needs a shell; the script is fixed and the paths arrive as positional arguments.
 */
const SHIFTED_COPY_SCRIPT =
  'tar -C "$1" --numeric-owner -cpf - . | ' +
  `lxc-usernsexec -m ${USERNS_MAP} -- tar -C "$2" --numeric-owner -xpf -`;

interface HostContext {
  host: HostTarget;
  lxcPath: string;
}

/**
 * Unprivileged LXC containers cloned copy-on-write (overlay) from stopped goldens, on a
 * warmpool bridge with NAT. Stateless: everything comes from the HostTarget of each call, and
 * every command goes through host.runner as an argv.
 */
@Injectable()
export class LxcDriver extends ContainerDriver {
  readonly kind = 'lxc' as const;
  private readonly logger = new Logger(LxcDriver.name);
  /** Unenforceable limits are reported once per host and reason, not on every clone. */
  private readonly reported = new Set<string>();
  private readonly cgroupLayouts = new Map<string, Promise<CgroupLayout>>();

  async isAvailable(host: HostTarget): Promise<boolean> {
    try {
      const uid = await host.runner.run(['id', '-u'], { timeoutMs: QUICK_MS });
      if (uid.exitCode !== 0 || uid.stdout.trim() !== '0') return false;
      const tools = await Promise.all(
        ['lxc-create', 'lxc-copy', 'lxc-attach'].map((tool) =>
          host.runner.run([tool, '--version'], { timeoutMs: QUICK_MS }),
        ),
      );
      return tools.every((result) => result.exitCode === 0);
    } catch (err) {
      if (err instanceof CommandStartError) return false;
      throw err;
    }
  }

  async prepareHost(host: HostTarget): Promise<void> {
    const op = 'prepareHost';
    const ctx = this.context(host, op);
    const net = this.network(host, op);
    const uid = await this.runOk(ctx, op, ['id', '-u']);
    if (uid.stdout.trim() !== '0') {
      throw new DriverError(op, 'LXC hosts must be driven as root', false);
    }

    await this.ensureSubordinateIds(ctx);
    await this.runOk(ctx, op, ['mkdir', '-p', ctx.lxcPath]);
    // The mapped root must be able to walk down to each clone's overlay, or mounting it fails with EPERM.
    const walk = await this.run(ctx, op, [
      'lxc-usernsexec',
      '-m',
      USERNS_MAP,
      '--',
      'test',
      '-x',
      ctx.lxcPath,
    ]);
    if (walk.exitCode !== 0) {
      throw new DriverError(
        op,
        `${ctx.lxcPath} is not traversable by uid ${MAPPED_ROOT_ID}: every directory on the path needs o+x`,
        false,
      );
    }
    await this.ensureBridge(ctx, net);
    await this.runOk(ctx, op, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    await this.runOk(ctx, op, ['nft', '-f', '/dev/stdin'], { stdin: nftRuleset(net) });
  }

  async buildTemplate(host: HostTarget, spec: TemplateBuildSpec): Promise<{ ref: string }> {
    const op = 'buildTemplate';
    const ctx = this.context(host, op);
    const golden = this.checked(op, () => goldenName(spec.name, spec.version));
    const source = this.checked(op, () => goldenSource(spec.source));
    for (const command of spec.setup) this.checkArgv(op, command);
    const dir = `${ctx.lxcPath}/${golden}`;

    await this.runOk(ctx, op, ['mkdir', '-p', ctx.lxcPath]);
    const existing = await this.info(ctx, op, golden);
    if (existing.state !== 'missing') {
      const marker = await this.run(ctx, op, ['test', '-e', `${dir}/${GOLDEN_COMPLETE_MARKER}`]);
      if (marker.exitCode === 0) {
        // A complete golden never runs: clones read its rootfs as their lower layer.
        if (existing.state !== 'STOPPED') await this.stopContainer(ctx, op, golden, 0);
        return { ref: golden };
      }
      this.logger.warn(`rebuilding half-built golden ${golden} on ${host.name}`);
      await this.destroyContainer(ctx, op, golden);
    }

    await this.createGolden(ctx, golden, source);
    if (spec.setup.length > 0) await this.runSetup(ctx, golden, spec.setup);
    await this.runOk(ctx, op, ['touch', `${dir}/${GOLDEN_COMPLETE_MARKER}`]);
    return { ref: golden };
  }

  async removeTemplate(host: HostTarget, ref: string): Promise<void> {
    const op = 'removeTemplate';
    const ctx = this.context(host, op);
    if (!isGoldenName(ref)) throw new DriverError(op, `"${ref}" is not a golden name`, false);
    await this.destroyContainer(ctx, op, ref);
  }

  async clone(host: HostTarget, spec: ContainerSpec): Promise<void> {
    const op = 'clone';
    const ctx = this.context(host, op);
    const net = this.network(host, op);
    this.checkSpec(op, spec, net);
    const dir = `${ctx.lxcPath}/${spec.name}`;

    let info = await this.info(ctx, op, spec.name);
    if (info.state !== 'missing') {
      const config = await this.runOk(ctx, op, ['cat', `${dir}/config`]);
      if (!cloneUsesGolden(config.stdout, ctx.lxcPath, spec.golden)) {
        this.logger.warn(
          `${spec.name} on ${host.name} is not a clone of ${spec.golden}; replacing it`,
        );
        await this.destroyContainer(ctx, op, spec.name);
        info = { state: 'missing', pid: null, ips: [] };
      }
    }
    if (info.state === 'missing') {
      const copy = await this.run(
        ctx,
        op,
        ['lxc-copy', '-P', ctx.lxcPath, '-n', spec.golden, '-N', spec.name, '-s', '-B', 'overlay'],
        { timeoutMs: COPY_MS },
      );
      if (copy.exitCode !== 0) {
        const missingGolden = /doesn't exist|not defined/.test(copy.stderr);
        throw new DriverError(
          op,
          `lxc-copy ${spec.golden} → ${spec.name}: ${tail(copy.stderr)}`,
          !missingGolden,
        );
      }
    }
    // The overlay's upper and work directories must belong to the mapped root (DESIGN "Drivers").
    await this.runOk(ctx, op, [
      'chown',
      '-h',
      MAPPED_OWNER,
      `${dir}/overlay`,
      `${dir}/overlay/delta`,
      `${dir}/overlay/work`,
    ]);

    const settings = await this.plannedLimits(ctx, op, spec, true);
    const network = this.cloneNetwork(spec, net);
    const managed = [
      ...idmapLines(),
      ...networkLines(network),
      ...settings.map((s) => `${configKey(s)} = ${s.value}`),
    ];
    const current = await this.runOk(ctx, op, ['cat', `${dir}/config`]);
    await this.writeFile(
      ctx,
      op,
      `${dir}/config`,
      renderCloneConfig(current.stdout, managed),
      true,
    );
  }

  async start(host: HostTarget, spec: ContainerSpec): Promise<void> {
    const op = 'start';
    const ctx = this.context(host, op);
    const net = this.network(host, op);
    this.checkSpec(op, spec, net);
    const info = await this.info(ctx, op, spec.name);
    if (info.state === 'missing') throw new DriverError(op, `${spec.name} does not exist`, false);

    if (info.state === 'FROZEN' || info.state === 'FREEZING') {
      await this.runOk(ctx, op, this.lxc(ctx, 'lxc-unfreeze', spec.name));
    } else if (info.state !== 'RUNNING' && info.state !== 'STARTING') {
      if (info.state === 'STOPPING' || info.state === 'ABORTING') {
        await this.run(
          ctx,
          op,
          this.lxc(ctx, 'lxc-wait', spec.name, '-s', 'STOPPED', '-t', String(STOP_S)),
        );
      }
      await this.startContainer(ctx, op, spec.name);
    }
    await this.runOk(
      ctx,
      op,
      this.lxc(ctx, 'lxc-wait', spec.name, '-s', 'RUNNING', '-t', String(WAIT_RUNNING_S)),
      {
        timeoutMs: (WAIT_RUNNING_S + 5) * 1000,
      },
    );

    try {
      await this.applyNetwork(ctx, spec, net);
      await this.verifyLimits(ctx, spec);
    } catch (err) {
      // A container without its isolation or limits must not keep running: the caller sees a
      // provisioning failure and destroys it.
      await this.stopContainer(ctx, op, spec.name, 0).catch(() => undefined);
      throw err;
    }
  }

  async healthcheck(host: HostTarget, name: string): Promise<void> {
    const op = 'healthcheck';
    const ctx = this.context(host, op);
    this.checkName(op, name);
    const result = await this.run(
      ctx,
      op,
      this.lxc(ctx, 'lxc-attach', name, '--clear-env', '--', 'true'),
      {
        timeoutMs: HEALTHCHECK_MS,
        maxOutputBytes: 4096,
      },
    );
    if (result.timedOut) {
      throw new DriverError(op, `${name} did not answer within ${HEALTHCHECK_MS} ms`);
    }
    if (result.exitCode !== 0) {
      throw new DriverError(
        op,
        `${name}: lxc-attach true exited ${result.exitCode}: ${tail(result.stderr)}`,
      );
    }
  }

  async exec(
    host: HostTarget,
    name: string,
    req: ExecRequest,
    sink?: ExecSink,
  ): Promise<ExecResult> {
    const op = 'exec';
    const ctx = this.context(host, op);
    this.checkName(op, name);
    this.checkArgv(op, req.command);
    if (!(req.timeoutMs > 0)) throw new DriverError(op, 'timeoutMs must be positive', false);
    if (!(req.maxOutputBytes >= 0)) {
      throw new DriverError(op, 'maxOutputBytes must not be negative', false);
    }
    const envArgs: string[] = [];
    for (const [key, value] of Object.entries(req.env ?? {})) {
      if (!isEnvName(key)) {
        throw new DriverError(op, `invalid environment variable name "${key}"`, false);
      }
      if (value.includes('\0')) {
        throw new DriverError(op, `environment variable ${key} contains NUL`, false);
      }
      envArgs.push('-v', `${key}=${value}`);
    }

    // After "--" lxc-attach execs the argv as given (no shell on either side). On timeout the
    // runner kills lxc-attach's process group, which the attached command belongs to.
    const result = await this.run(
      ctx,
      op,
      this.lxc(ctx, 'lxc-attach', name, '--clear-env', ...envArgs, '--', ...req.command),
      {
        timeoutMs: req.timeoutMs,
        maxOutputBytes: req.maxOutputBytes,
        stdin: req.stdin,
        onStdout: sink ? (chunk) => sink('stdout', chunk) : undefined,
        onStderr: sink ? (chunk) => sink('stderr', chunk) : undefined,
      },
    );
    if (
      !result.timedOut &&
      result.exitCode !== 0 &&
      result.stderr.includes(`lxc-attach: ${name}: `)
    ) {
      // lxc-attach's own failure (not the command's) is worth a DriverError only when the container is down.
      const info = await this.info(ctx, op, name);
      if (info.state !== 'RUNNING') {
        throw new DriverError(op, `${name} is ${info.state.toLowerCase()}`, false);
      }
    }
    return {
      exitCode: result.timedOut ? null : result.exitCode,
      stdout: result.stdout,
      stderr: result.stderr,
      durationMs: result.durationMs,
      timedOut: result.timedOut,
      truncated: result.truncated,
    };
  }

  async reset(host: HostTarget, spec: ContainerSpec): Promise<void> {
    // Discarding the overlay delta is the whole point; a fresh clone under the same name does
    // exactly that, and re-renders the config from the spec on the way.
    await this.destroy(host, spec.name);
    await this.clone(host, spec);
    await this.start(host, spec);
  }

  async destroy(host: HostTarget, name: string): Promise<void> {
    const op = 'destroy';
    const ctx = this.context(host, op);
    this.checkName(op, name);
    await this.destroyContainer(ctx, op, name);
  }

  async list(host: HostTarget): Promise<string[]> {
    const op = 'list';
    const ctx = this.context(host, op);
    const result = await this.runOk(ctx, op, ['lxc-ls', '-P', ctx.lxcPath, '-1']);
    return result.stdout
      .split('\n')
      .map((line) => line.trim())
      .filter((name) => isContainerName(name));
  }

  async describe(host: HostTarget, name: string): Promise<ContainerDescription> {
    const op = 'describe';
    const ctx = this.context(host, op);
    this.checkName(op, name);
    const info = await this.info(ctx, op, name);
    if (info.state === 'missing') return { state: 'missing', ip: null };
    const running =
      info.state === 'RUNNING' || info.state === 'FROZEN' || info.state === 'FREEZING';
    return { state: running ? 'running' : 'stopped', ip: running ? (info.ips[0] ?? null) : null };
  }

  private async ensureSubordinateIds(ctx: HostContext): Promise<void> {
    const op = 'prepareHost';
    const flags: string[] = [];
    for (const [file, flag] of [
      ['/etc/subuid', '--add-subuids'],
      ['/etc/subgid', '--add-subgids'],
    ] as const) {
      const text = await this.run(ctx, op, ['cat', file]);
      const present =
        text.exitCode === 0 &&
        hasSubordinateRange(text.stdout, 'root', MAPPED_ROOT_ID, MAPPED_ID_COUNT);
      if (!present) flags.push(flag, MAPPED_RANGE);
    }
    if (flags.length > 0) await this.runOk(ctx, op, ['usermod', ...flags, 'root']);
  }

  private async ensureBridge(ctx: HostContext, net: HostNetwork): Promise<void> {
    const op = 'prepareHost';
    const link = await this.run(ctx, op, ['ip', '-j', '-d', 'link', 'show', 'dev', net.bridge]);
    if (link.exitCode === 0) {
      if (!link.stdout.includes('"info_kind":"bridge"')) {
        throw new DriverError(op, `${net.bridge} exists and is not a bridge`, false);
      }
    } else {
      await this.runOk(ctx, op, ['ip', 'link', 'add', 'name', net.bridge, 'type', 'bridge']);
    }
    await this.runOk(ctx, op, [
      'ip',
      'addr',
      'replace',
      `${net.gateway}/${net.prefixLength}`,
      'dev',
      net.bridge,
    ]);
    await this.runOk(ctx, op, ['ip', 'link', 'set', 'dev', net.bridge, 'up']);
  }

  /**
   * lxc-create with our config, then proof that the idmap took: lxc-create quietly carries on
   * with a config it cannot read, and the result would be a privileged golden.
   */
  private async createGolden(
    ctx: HostContext,
    golden: string,
    source: GoldenSource,
  ): Promise<void> {
    const op = 'buildTemplate';
    const dir = `${ctx.lxcPath}/${golden}`;
    // A file, not /dev/stdin: a socket on stdin (as node gives children) cannot be opened by path.
    const createConfig = `${ctx.lxcPath}/.${golden}.create.conf`;
    const template = source.kind === 'template' ? source.template : 'none';
    if (source.kind === 'rootfs') {
      // The copy runs through a pipe whose status is the extracting tar's, so check the source first.
      const present = await this.run(ctx, op, ['test', '-d', source.path]);
      if (present.exitCode !== 0) {
        throw new DriverError(op, `source.rootfs ${source.path} is not a directory`, false);
      }
      await this.runOk(ctx, op, ['mkdir', '-p', `${dir}/rootfs`]);
      await this.runOk(ctx, op, ['chown', MAPPED_OWNER, dir, `${dir}/rootfs`]);
    }
    const rootfsDir = source.kind === 'rootfs' ? `${dir}/rootfs` : null;
    await this.writeFile(ctx, op, createConfig, goldenConfig(rootfsDir, golden), false);
    try {
      await this.runOk(
        ctx,
        op,
        this.lxc(ctx, 'lxc-create', golden, '-t', template, '-f', createConfig),
        { timeoutMs: CREATE_MS },
      );
    } finally {
      await this.run(ctx, op, ['rm', '-f', createConfig]);
    }
    const config = await this.runOk(ctx, op, ['cat', `${dir}/config`]);
    const mapped = idmapLines().every((line) => config.stdout.split('\n').includes(line));
    if (!mapped) throw new DriverError(op, `${golden} was created without the uid/gid map`, false);

    if (source.kind === 'rootfs') {
      await this.runOk(
        ctx,
        op,
        ['sh', '-c', SHIFTED_COPY_SCRIPT, 'sh', source.path, `${dir}/rootfs`],
        { timeoutMs: CREATE_MS },
      );
    } else if (source.template === 'busybox') {
      // Fresh from the template, nothing has run in this rootfs yet: writing as host root is safe.
      await this.writeFile(ctx, op, `${dir}/rootfs/etc/init.d/rcS`, BUSYBOX_RCS, false);
    }
    // Templates run in the user namespace, so the mapped root owns what they wrote.
    const owner = await this.runOk(ctx, op, [
      'stat',
      '-c',
      '%u:%g',
      `${dir}/rootfs`,
      `${dir}/rootfs/etc`,
    ]);
    const owners = owner.stdout.trim().split('\n');
    if (owners.some((o) => o !== MAPPED_OWNER)) {
      throw new DriverError(
        op,
        `${golden}'s rootfs is owned by ${owners.join(', ')}, not ${MAPPED_OWNER}`,
        false,
      );
    }
  }

  private async runSetup(ctx: HostContext, golden: string, setup: string[][]): Promise<void> {
    const op = 'buildTemplate';
    await this.startContainer(ctx, op, golden);
    await this.runOk(
      ctx,
      op,
      this.lxc(ctx, 'lxc-wait', golden, '-s', 'RUNNING', '-t', String(WAIT_RUNNING_S)),
      {
        timeoutMs: (WAIT_RUNNING_S + 5) * 1000,
      },
    );
    try {
      for (const command of setup) {
        const result = await this.run(
          ctx,
          op,
          this.lxc(ctx, 'lxc-attach', golden, '--clear-env', '--', ...command),
          {
            timeoutMs: SETUP_COMMAND_MS,
            maxOutputBytes: SETUP_OUTPUT_BYTES,
          },
        );
        if (result.timedOut || result.exitCode !== 0) {
          const outcome = result.timedOut ? 'timed out' : `exited ${result.exitCode}`;
          // The same commands on the same image fail the same way: not worth a blind retry.
          throw new DriverError(
            op,
            `setup command ${JSON.stringify(command)} ${outcome}: ${tail(result.stderr || result.stdout)}`,
            false,
          );
        }
      }
    } finally {
      await this.stopContainer(ctx, op, golden, STOP_S);
    }
  }

  private async startContainer(ctx: HostContext, op: string, name: string): Promise<void> {
    const log = `${ctx.lxcPath}/${name}/start.log`;
    const result = await this.run(
      ctx,
      op,
      this.lxc(ctx, 'lxc-start', name, '-d', '-o', log, '-l', 'ERROR'),
      {
        timeoutMs: (WAIT_RUNNING_S + 5) * 1000,
      },
    );
    if (result.exitCode === 0) return;
    const already = await this.info(ctx, op, name);
    if (already.state === 'RUNNING') return;
    const logTail = await this.run(ctx, op, ['tail', '-c', '1500', log]);
    throw new DriverError(
      op,
      `lxc-start ${name} failed: ${tail(result.stderr)} ${tail(logTail.stdout, 1500)}`,
    );
  }

  /** Stops cleanly within `graceSeconds` (0: kill at once); a stopped or missing container is fine. */
  private async stopContainer(
    ctx: HostContext,
    op: string,
    name: string,
    graceSeconds: number,
  ): Promise<void> {
    const argv = this.lxc(ctx, 'lxc-stop', name);
    argv.push(...(graceSeconds > 0 ? ['-t', String(graceSeconds)] : ['-k']));
    const result = await this.run(ctx, op, argv, { timeoutMs: (graceSeconds + 15) * 1000 });
    if (result.exitCode === 0) return;
    const info = await this.info(ctx, op, name);
    if (info.state === 'STOPPED' || info.state === 'missing') return;
    throw new DriverError(op, `lxc-stop ${name}: ${tail(result.stderr)}`);
  }

  private async destroyContainer(ctx: HostContext, op: string, name: string): Promise<void> {
    const result = await this.run(ctx, op, this.lxc(ctx, 'lxc-destroy', name, '-f'), {
      timeoutMs: COPY_MS,
    });
    if (result.exitCode === 0) return;
    const info = await this.info(ctx, op, name);
    if (info.state === 'missing') return;
    if (result.stderr.includes('has clones')) {
      throw new DriverError(op, `${name} still has clones; destroy them first`);
    }
    throw new DriverError(op, `lxc-destroy ${name}: ${tail(result.stderr)}`);
  }

  private async applyNetwork(
    ctx: HostContext,
    spec: ContainerSpec,
    net: HostNetwork,
  ): Promise<void> {
    const op = 'start';
    const mode = spec.resources.network;
    if (mode === 'none') return;
    const veth = vethName(spec.name, mode);
    if (mode === 'isolated') {
      await this.runOk(ctx, op, ['bridge', 'link', 'set', 'dev', veth, 'isolated', 'on']);
    }
    const port = await this.runOk(ctx, op, ['bridge', '-j', '-d', 'link', 'show', 'dev', veth]);
    const problem = bridgePortProblem(port.stdout, veth, net.bridge, mode);
    if (problem) throw new DriverError(op, `${spec.name}: ${problem}`);
    const info = await this.info(ctx, op, spec.name);
    if (spec.ip && !info.ips.includes(spec.ip)) {
      throw new DriverError(
        op,
        `${spec.name} came up without its address ${spec.ip} (has ${info.ips.join(', ') || 'none'})`,
      );
    }
  }

  /** Reads every limit back from the container's cgroup: a key for the wrong hierarchy is silently ignored by LXC. */
  private async verifyLimits(ctx: HostContext, spec: ContainerSpec): Promise<void> {
    const op = 'start';
    const settings = await this.plannedLimits(ctx, op, spec, false);
    const failures = await Promise.all(
      settings.map(async (setting: CgroupSetting) => {
        const read = await this.run(ctx, op, this.lxc(ctx, 'lxc-cgroup', spec.name, setting.file));
        if (read.exitCode === 0 && settingApplied(setting, read.stdout)) return null;
        const got =
          read.exitCode === 0
            ? JSON.stringify(read.stdout.trim())
            : `unreadable (${tail(read.stderr, 200)})`;
        return `${configKey(setting)} = ${setting.value} is not in force: ${got}`;
      }),
    );
    const problems = failures.filter((failure): failure is string => failure !== null);
    if (problems.length > 0) throw new DriverError(op, `${spec.name}: ${problems.join('; ')}`);
  }

  private async plannedLimits(
    ctx: HostContext,
    op: string,
    spec: ContainerSpec,
    warn: boolean,
  ): Promise<CgroupSetting[]> {
    const layout = await this.cgroupLayout(ctx, op);
    const iops = spec.resources.iops ?? 0;
    const device = iops > 0 ? await this.blockDevice(ctx, op) : null;
    const plan = limitSettings(spec.resources, layout, device);
    for (const reason of warn ? plan.skipped : []) {
      const key = `${ctx.host.name}\0${reason}`;
      if (this.reported.has(key)) continue;
      this.reported.add(key);
      this.logger.warn(`host ${ctx.host.name}: limit not enforced: ${reason}`);
    }
    return plan.settings;
  }

  /** A host's cgroup mounts do not change under us: read them once per host, not per container. */
  private cgroupLayout(ctx: HostContext, op: string): Promise<CgroupLayout> {
    const key = `${ctx.host.name}\0${ctx.host.address}`;
    let layout = this.cgroupLayouts.get(key);
    if (!layout) {
      layout = this.runOk(ctx, op, ['cat', '/proc/self/mountinfo']).then((m) =>
        parseCgroupLayout(m.stdout),
      );
      // A failed read is not remembered: the next container asks again.
      layout.catch(() => this.cgroupLayouts.delete(key));
      this.cgroupLayouts.set(key, layout);
    }
    return layout;
  }

  /**
   * The whole disk to throttle: `options.blockDevice` ("8:0", or a device path such as
   * /dev/sda, which the API asks for, resolved on the host), else the disk under the lxc path.
   * null when there is none.
   */
  private async blockDevice(ctx: HostContext, op: string): Promise<string | null> {
    const configured = ctx.host.options.blockDevice;
    if (configured !== undefined) {
      const device =
        typeof configured === 'string' ? await this.configuredDevice(ctx, op, configured) : null;
      if (!device) {
        throw new DriverError(
          op,
          'options.blockDevice must be a block device of the host, such as /dev/sda or "8:0"',
          false,
        );
      }
      return device;
    }
    const mount = await this.run(ctx, op, [
      'findmnt',
      '-n',
      '-o',
      'MAJ:MIN',
      '--target',
      ctx.lxcPath,
    ]);
    const device = mount.exitCode === 0 ? parseBlockDevice(mount.stdout) : null;
    return device ? this.wholeDisk(ctx, op, device) : null;
  }

  private async configuredDevice(
    ctx: HostContext,
    op: string,
    text: string,
  ): Promise<string | null> {
    const numbers = parseBlockDevice(text);
    if (numbers) return numbers;
    if (!isDevicePath(text)) return null;
    const stat = await this.run(ctx, op, ['stat', '-L', '-c', '%F:%t:%T', text]);
    const device = stat.exitCode === 0 ? parseStatBlockDevice(stat.stdout) : null;
    return device ? this.wholeDisk(ctx, op, device) : null;
  }

  /** Throttling takes whole disks only; a partition's parent directory in sysfs is its disk. */
  private async wholeDisk(ctx: HostContext, op: string, device: string): Promise<string | null> {
    const partition = await this.run(ctx, op, ['test', '-e', `/sys/dev/block/${device}/partition`]);
    if (partition.exitCode !== 0) return device;
    const parent = await this.run(ctx, op, ['cat', `/sys/dev/block/${device}/../dev`]);
    return parent.exitCode === 0 ? parseBlockDevice(parent.stdout) : null;
  }

  private cloneNetwork(spec: ContainerSpec, net: HostNetwork): CloneNetwork {
    const mode = spec.resources.network;
    return {
      mode,
      bridge: net.bridge,
      veth: mode === 'none' ? '' : vethName(spec.name, mode),
      ip: spec.ip,
      prefixLength: net.prefixLength,
      broadcast: broadcastAddress(net.subnet),
      gateway: net.gateway,
    };
  }

  private async info(ctx: HostContext, op: string, name: string): Promise<LxcInfo> {
    const result = await this.run(ctx, op, this.lxc(ctx, 'lxc-info', name, '-s', '-p', '-i', '-H'));
    try {
      return parseLxcInfo(result.stdout, result.exitCode, result.stderr);
    } catch (err) {
      throw new DriverError(op, `${name}: ${(err as Error).message}`);
    }
  }

  /** With `atomic`, writes a temporary file and renames it: an interrupted write never leaves half a config. */
  private async writeFile(
    ctx: HostContext,
    op: string,
    path: string,
    content: string,
    atomic: boolean,
  ): Promise<void> {
    const target = atomic ? `${path}.warmpool-tmp` : path;
    await this.runOk(ctx, op, ['dd', `of=${target}`, 'status=none'], { stdin: content });
    if (atomic) await this.runOk(ctx, op, ['mv', '-f', target, path]);
  }

  /** argv of an LXC tool acting on one container under this host's lxc path. */
  private lxc(ctx: HostContext, tool: string, name: string, ...rest: string[]): string[] {
    return [tool, '-P', ctx.lxcPath, '-n', name, ...rest];
  }

  private context(host: HostTarget, op: string): HostContext {
    return { host, lxcPath: this.checked(op, () => lxcPathOption(host.options)) };
  }

  private network(host: HostTarget, op: string): HostNetwork {
    return this.checked(op, () => hostNetwork(host));
  }

  private checkSpec(op: string, spec: ContainerSpec, net: HostNetwork): void {
    this.checkName(op, spec.name);
    if (!isGoldenName(spec.golden)) {
      throw new DriverError(op, `"${spec.golden}" is not a golden name`, false);
    }
    const mode: NetworkMode = spec.resources.network;
    if (!['isolated', 'shared', 'none'].includes(mode)) {
      throw new DriverError(op, `unknown network mode "${String(mode)}"`, false);
    }
    this.checked(op, () => containerAddress(spec.name, spec.ip, mode, net));
    const problem = resourcesProblem(spec.resources);
    if (problem) throw new DriverError(op, problem, false);
  }

  private checkName(op: string, name: string): void {
    if (!isContainerName(name)) {
      throw new DriverError(op, `"${name}" is not a warmpool container name`, false);
    }
  }

  private checkArgv(op: string, argv: string[]): void {
    if (!Array.isArray(argv) || argv.length === 0) {
      throw new DriverError(op, 'command must not be empty', false);
    }
    if (argv.some((arg) => typeof arg !== 'string' || arg.includes('\0'))) {
      throw new DriverError(op, 'command arguments must be strings without NUL', false);
    }
  }

  private checked<T>(op: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw new DriverError(op, (err as Error).message, false);
    }
  }

  private async run(
    ctx: HostContext,
    op: string,
    argv: string[],
    options: RunOptions = {},
  ): Promise<RunResult> {
    try {
      return await ctx.host.runner.run(argv, { timeoutMs: QUICK_MS, ...options });
    } catch (err) {
      if (err instanceof CommandStartError) throw new DriverError(op, err.message);
      throw err;
    }
  }

  private async runOk(
    ctx: HostContext,
    op: string,
    argv: string[],
    options: RunOptions = {},
  ): Promise<RunResult> {
    const result = await this.run(ctx, op, argv, options);
    if (result.timedOut) {
      throw new DriverError(op, `${argv[0]} timed out after ${result.durationMs} ms`);
    }
    if (result.exitCode !== 0) {
      const status = result.exitCode ?? result.signal;
      throw new DriverError(
        op,
        `${argv.slice(0, 2).join(' ')} exited ${status}: ${tail(result.stderr || result.stdout)}`,
      );
    }
    return result;
  }
}
