import { Inject, Injectable, Optional } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { RunOptions, RunResult } from '../command-runner';
import {
  CONTAINER_PREFIX,
  ContainerDescription,
  ContainerDriver,
  ContainerSpec,
  DriverError,
  ExecRequest,
  ExecResult,
  ExecSink,
  HostTarget,
  TemplateBuildSpec,
} from '../container-driver';
import {
  decodeGoldenRef,
  encodeGoldenRef,
  GoldenRecipe,
  goldenCtid,
  goldenName,
  legacyCtid,
  pristineSnapshotId,
} from './ctid';
import { argvWithEnv, shellCommandLine, validateExec } from './exec-argv';
import { KeyedMutex } from './keyed-mutex';
import { vzctlSetArgs } from './vzctl-set-args';
import {
  parseVzctlMajorVersion,
  parseVzctlStatus,
  parseVzlistRows,
  VzctlStatus,
} from './vzctl-status';

/** vzctl exit codes (vzerror.h of vzctl 7 and 4.x) the driver acts on. */
export const VZ_EXIT = {
  LOCKED: 9,
  NO_CONFIG: 14,
  BAD_SYNTAX: 20,
  BAD_VALUE: 21,
  NOT_RUNNING: 31,
  RUNNING: 32,
  SWITCH_SNAPSHOT: 159,
} as const;

/** A bad command line or value is a bug here; a missing pristine snapshot needs a re-clone. */
const NOT_RETRYABLE: ReadonlySet<number> = new Set([
  VZ_EXIT.BAD_SYNTAX,
  VZ_EXIT.BAD_VALUE,
  VZ_EXIT.SWITCH_SNAPSHOT,
]);

export interface OpenVzTunables {
  /** Further attempts after vzctl exits 9 (another vzctl holds the container's lock). */
  lockRetries: number;
  /** First wait before retrying a locked container; doubled each time, up to the max. */
  lockBackoffMs: number;
  lockBackoffMaxMs: number;
  /** How long `start` waits for `vzctl status` to say running. */
  startTimeoutMs: number;
  statusPollMs: number;
  /** Limit for one lifecycle command; create and clone copy whole images. */
  commandTimeoutMs: number;
  /** Characters of the tool's output kept in a DriverError message. */
  errorOutputChars: number;
}

export const DEFAULT_OPENVZ_TUNABLES: OpenVzTunables = {
  lockRetries: 6,
  lockBackoffMs: 200,
  lockBackoffMaxMs: 3_000,
  startTimeoutMs: 120_000,
  statusPollMs: 250,
  commandTimeoutMs: 30 * 60_000,
  errorOutputChars: 2_000,
};

/** DI token for optional tunables (`{ provide: OPENVZ_DRIVER_OPTIONS, useValue: {...} }`). */
export const OPENVZ_DRIVER_OPTIONS = Symbol('OPENVZ_DRIVER_OPTIONS');

/** Host options this driver reads from HostTarget.options. */
export interface OpenVzHostConfig {
  /** Which tool runs start/stop/delete/exec: vzctl (default) or prlctl (OpenVZ 7 only). */
  tool: 'vzctl' | 'prlctl';
  /** vzctl 4.x; detected from `vzctl --version` unless the host says. */
  legacy: boolean;
  /** exec3 takes an argv; exec2 one shell string. Default exec3, exec2 on vzctl 4.x. */
  execMode: 'exec3' | 'exec2';
}

const CONTROL_OUTPUT_BYTES = 4 * 1024 * 1024;
const QUERY_TIMEOUT_MS = 60_000;
const HEALTHCHECK_TIMEOUT_MS = 30_000;
const LEGACY_CTID_PROBES = 64;

/**
 * OpenVZ: OpenVZ 7 (vzctl 7 + prlctl + vzlist) and legacy vzctl 4.x, driven through the
 * host's CommandRunner. A golden is `vzctl create --layout ploop` plus setup, left stopped;
 * a pool slot is a full copy (`prlctl clone`; OpenVZ has no copy-on-write clone of a
 * container) with a pristine ploop snapshot, and reset switches back to that snapshot.
 *
 * Containers are addressed by name. Goldens get a CT id derived from their name (a UUID on
 * OpenVZ 7, a probed number on 4.x); slots get prlctl's UUID. The pristine snapshot id is
 * derived from the container name (pristineSnapshotId), so nothing needs remembering.
 *
 * Lifecycle operations on one container are queued (KeyedMutex) because vzctl's lock does
 * not wait; when another vzctl holds it anyway (exit 9) the command is retried with bounded
 * exponential backoff. exec is not queued: builds may run several at once.
 */
@Injectable()
export class OpenVzDriver extends ContainerDriver {
  readonly kind = 'openvz' as const;
  private readonly tunables: OpenVzTunables;
  private readonly queue = new KeyedMutex();
  private readonly legacyByHost = new Map<string, Promise<boolean>>();

  constructor(@Optional() @Inject(OPENVZ_DRIVER_OPTIONS) tunables?: Partial<OpenVzTunables>) {
    super();
    this.tunables = { ...DEFAULT_OPENVZ_TUNABLES, ...tunables };
  }

  async isAvailable(host: HostTarget): Promise<boolean> {
    try {
      const version = await host.runner.run(['vzctl', '--version'], { timeoutMs: 10_000 });
      if (version.exitCode !== 0 || parseVzctlMajorVersion(version.stdout) === null) return false;
      if (host.options.tool !== 'prlctl') return true;
      const prlctl = await host.runner.run(['prlctl', '--version'], { timeoutMs: 10_000 });
      return prlctl.exitCode === 0;
    } catch {
      return false;
    }
  }

  /** venet routing needs nothing prepared; there is no bridge or NAT as with LXC. */
  async prepareHost(host: HostTarget): Promise<void> {
    await this.hostConfig(host);
  }

  async buildTemplate(host: HostTarget, spec: TemplateBuildSpec): Promise<{ ref: string }> {
    const op = 'buildTemplate';
    const cfg = await this.hostConfig(host);
    const ostemplate = spec.source.ostemplate;
    if (typeof ostemplate !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(ostemplate)) {
      throw new DriverError(op, 'source.ostemplate must be an OS template name', false);
    }
    for (const command of spec.setup) this.validateCommand(op, command);
    const name = goldenName(spec.name, spec.version);
    return this.serialized(host, name, async () => {
      // A golden left by an interrupted build of this same version is rebuilt from scratch.
      await this.destroyContainer(host, cfg, op, name);
      const ctid = cfg.legacy ? await this.freeLegacyCtid(host, op, name) : goldenCtid(name);
      await this.command(host, op, ['vzctl', 'create', ctid, ...this.createArgs(ostemplate, name)]);
      try {
        await this.runSetup(host, cfg, op, name, spec.setup);
      } catch (err) {
        await this.destroyContainer(host, cfg, op, name).catch(() => undefined);
        throw err;
      }
      const recipe: GoldenRecipe | undefined = cfg.legacy
        ? { ostemplate, setup: spec.setup }
        : undefined;
      return { ref: encodeGoldenRef(name, recipe) };
    });
  }

  async removeTemplate(host: HostTarget, ref: string): Promise<void> {
    const cfg = await this.hostConfig(host);
    const { name } = this.decodeRef('removeTemplate', ref);
    await this.serialized(host, name, () =>
      this.destroyContainer(host, cfg, 'removeTemplate', name),
    );
  }

  async clone(host: HostTarget, spec: ContainerSpec): Promise<void> {
    const op = 'clone';
    this.assertOurs(op, spec.name);
    const cfg = await this.hostConfig(host);
    const golden = this.decodeRef(op, spec.golden);
    let setArgs: string[];
    try {
      setArgs = vzctlSetArgs(spec.resources, spec.ip);
    } catch (err) {
      throw new DriverError(op, (err as Error).message, false);
    }
    if (cfg.legacy && !golden.recipe) {
      throw new DriverError(op, `template ${golden.name} was not built for vzctl 4.x`, false);
    }
    await this.serialized(host, spec.name, async () => {
      // Leftovers of an interrupted clone of this slot would make the copy fail.
      await this.destroyContainer(host, cfg, op, spec.name);
      try {
        if (golden.recipe && cfg.legacy) {
          // vzctl 4.x has no clone and no prlctl: the slot is made from the recipe again.
          const ctid = await this.freeLegacyCtid(host, op, spec.name);
          await this.command(host, op, [
            'vzctl',
            'create',
            ctid,
            ...this.createArgs(golden.recipe.ostemplate, spec.name),
          ]);
          await this.runSetup(host, cfg, op, spec.name, golden.recipe.setup);
        } else {
          await this.command(host, op, ['prlctl', 'clone', golden.name, '--name', spec.name]);
        }
        if (setArgs.length > 0) {
          await this.command(host, op, ['vzctl', 'set', spec.name, ...setArgs, '--save']);
        }
        // Taken after the limits so a reset brings them back too (the snapshot holds ve.conf).
        await this.command(host, op, [
          'vzctl',
          'snapshot',
          spec.name,
          '--id',
          pristineSnapshotId(spec.name),
          '--skip-suspend',
        ]);
      } catch (err) {
        await this.destroyContainer(host, cfg, op, spec.name).catch(() => undefined);
        throw err;
      }
    });
  }

  async start(host: HostTarget, spec: ContainerSpec): Promise<void> {
    this.assertOurs('start', spec.name);
    const cfg = await this.hostConfig(host);
    await this.serialized(host, spec.name, () =>
      this.startContainer(host, cfg, 'start', spec.name),
    );
  }

  async healthcheck(host: HostTarget, name: string): Promise<void> {
    const result = await this.exec(host, name, {
      command: ['true'],
      timeoutMs: HEALTHCHECK_TIMEOUT_MS,
      maxOutputBytes: 4096,
    });
    if (result.timedOut || result.exitCode !== 0) {
      throw new DriverError(
        'healthcheck',
        `${name}: \`true\` ${result.timedOut ? 'timed out' : `exited ${result.exitCode}`}: ${this.tail(result.stderr)}`,
      );
    }
  }

  async exec(
    host: HostTarget,
    name: string,
    req: ExecRequest,
    sink?: ExecSink,
  ): Promise<ExecResult> {
    this.assertOurs('exec', name);
    const cfg = await this.hostConfig(host);
    return this.execIn(host, cfg, 'exec', name, req, sink);
  }

  async reset(host: HostTarget, spec: ContainerSpec): Promise<void> {
    const op = 'reset';
    this.assertOurs(op, spec.name);
    const cfg = await this.hostConfig(host);
    await this.serialized(host, spec.name, async () => {
      await this.stopContainer(host, cfg, op, spec.name, true);
      // The pristine snapshot was taken of a stopped container (no memory dump), so there is
      // nothing to resume; --skip-resume says so on OpenVZ 7, and vzctl 4.x does not know it.
      await this.command(host, op, [
        'vzctl',
        'snapshot-switch',
        spec.name,
        '--id',
        pristineSnapshotId(spec.name),
        ...(cfg.legacy ? [] : ['--skip-resume']),
      ]);
      await this.startContainer(host, cfg, op, spec.name);
    });
  }

  async destroy(host: HostTarget, name: string): Promise<void> {
    this.assertOurs('destroy', name);
    const cfg = await this.hostConfig(host);
    await this.serialized(host, name, () => this.destroyContainer(host, cfg, 'destroy', name));
  }

  async list(host: HostTarget): Promise<string[]> {
    const argv = ['vzlist', '-a', '-H', '-o', 'ctid,name'];
    const result = await this.query(host, 'list', argv);
    if (result.exitCode !== 0) {
      // vzctl 4.x's vzlist exits 1 with "Container(s) not found" on a host without containers.
      if (result.exitCode === 1 && !result.stdout.trim() && /not found/i.test(result.stderr)) {
        return [];
      }
      throw this.failure('list', argv, result);
    }
    return parseVzlistRows(result.stdout)
      .map((row) => row.second)
      .filter((name): name is string => name !== null && name.startsWith(CONTAINER_PREFIX));
  }

  async describe(host: HostTarget, name: string): Promise<ContainerDescription> {
    const status = await this.statusOf(host, 'describe', name);
    if (!status) return { state: 'missing', ip: null };
    const argv = ['vzlist', '-a', '-H', '-o', 'ctid,name,ip'];
    const result = await this.query(host, 'describe', argv);
    if (result.exitCode !== 0) throw this.failure('describe', argv, result);
    const row = parseVzlistRows(result.stdout).find((r) => r.second === name);
    return { state: status.running ? 'running' : 'stopped', ip: row?.ips[0] ?? null };
  }

  // ---- host configuration ---------------------------------------------------------------

  private async hostConfig(host: HostTarget): Promise<OpenVzHostConfig> {
    const { tool = 'vzctl', legacy, execMode } = host.options;
    if (tool !== 'vzctl' && tool !== 'prlctl') {
      throw new DriverError('config', `host ${host.name}: tool must be 'vzctl' or 'prlctl'`, false);
    }
    if (legacy !== undefined && typeof legacy !== 'boolean') {
      throw new DriverError('config', `host ${host.name}: legacy must be true or false`, false);
    }
    if (execMode !== undefined && execMode !== 'exec3' && execMode !== 'exec2') {
      throw new DriverError('config', `host ${host.name}: execMode must be exec3 or exec2`, false);
    }
    const isLegacy = legacy ?? (await this.detectLegacy(host));
    if (isLegacy && tool === 'prlctl') {
      throw new DriverError('config', `host ${host.name}: vzctl 4.x hosts have no prlctl`, false);
    }
    return { tool, legacy: isLegacy, execMode: execMode ?? (isLegacy ? 'exec2' : 'exec3') };
  }

  private detectLegacy(host: HostTarget): Promise<boolean> {
    const key = `${host.name}\0${host.address}`;
    let pending = this.legacyByHost.get(key);
    if (!pending) {
      pending = (async () => {
        const argv = ['vzctl', '--version'];
        const result = await this.run(host, 'config', argv, { timeoutMs: QUERY_TIMEOUT_MS });
        const major = parseVzctlMajorVersion(result.stdout);
        if (result.exitCode !== 0 || major === null) throw this.failure('config', argv, result);
        return major < 7;
      })();
      this.legacyByHost.set(key, pending);
      pending.catch(() => this.legacyByHost.delete(key));
    }
    return pending;
  }

  // ---- container operations (callers hold the container's queue slot) -------------------

  private createArgs(ostemplate: string, name: string): string[] {
    return ['--ostemplate', ostemplate, '--layout', 'ploop', '--name', name];
  }

  private async runSetup(
    host: HostTarget,
    cfg: OpenVzHostConfig,
    op: string,
    name: string,
    setup: string[][],
  ): Promise<void> {
    if (setup.length === 0) return;
    await this.startContainer(host, cfg, op, name);
    for (const [index, command] of setup.entries()) {
      const result = await this.execIn(host, cfg, op, name, {
        command,
        timeoutMs: this.tunables.commandTimeoutMs,
        maxOutputBytes: 64 * 1024,
      });
      if (result.timedOut || result.exitCode !== 0) {
        const outcome = result.timedOut ? 'timed out' : `exited ${result.exitCode}`;
        throw new DriverError(
          op,
          `setup command ${index + 1} ${outcome}: ${this.tail(result.stderr || result.stdout)}`,
          false,
        );
      }
    }
    await this.stopContainer(host, cfg, op, name, false);
  }

  private async startContainer(
    host: HostTarget,
    cfg: OpenVzHostConfig,
    op: string,
    name: string,
  ): Promise<void> {
    if (cfg.tool === 'prlctl') {
      // prlctl reports every dispatcher error as 255, "already running" included: ask first.
      const status = await this.statusOf(host, op, name);
      if (!status) throw new DriverError(op, `no container ${name} on ${host.name}`, false);
      if (!status.running) await this.command(host, op, ['prlctl', 'start', name]);
    } else {
      await this.command(host, op, ['vzctl', 'start', name], [0, VZ_EXIT.RUNNING]);
    }
    await this.waitRunning(host, op, name);
  }

  private async stopContainer(
    host: HostTarget,
    cfg: OpenVzHostConfig,
    op: string,
    name: string,
    fast: boolean,
  ): Promise<void> {
    if (cfg.tool === 'prlctl') {
      const status = await this.statusOf(host, op, name);
      if (!status || !(status.running || status.paused)) return;
      await this.command(host, op, ['prlctl', 'stop', name, ...(fast ? ['--kill'] : [])]);
      return;
    }
    // Stopping a stopped container exits 0 ("Unable to stop: container is not running").
    await this.command(host, op, ['vzctl', 'stop', name, ...(fast ? ['--fast'] : [])]);
  }

  private async waitRunning(host: HostTarget, op: string, name: string): Promise<void> {
    const deadline = Date.now() + this.tunables.startTimeoutMs;
    for (;;) {
      const status = await this.statusOf(host, op, name);
      if (!status) throw new DriverError(op, `${name} disappeared while starting`);
      if (status.running) return;
      if (Date.now() >= deadline) {
        throw new DriverError(
          op,
          `${name} not running ${this.tunables.startTimeoutMs} ms after start`,
        );
      }
      await sleep(this.tunables.statusPollMs);
    }
  }

  /** Idempotent: a missing container is already destroyed. */
  private async destroyContainer(
    host: HostTarget,
    cfg: OpenVzHostConfig,
    op: string,
    name: string,
  ): Promise<void> {
    const status = await this.statusOf(host, op, name);
    if (!status) return;
    if (status.running || status.paused) await this.stopContainer(host, cfg, op, name, true);
    if (cfg.tool === 'prlctl') {
      try {
        await this.command(host, op, ['prlctl', 'delete', name]);
      } catch (err) {
        if (await this.statusOf(host, op, name)) throw err;
      }
      return;
    }
    const argv = ['vzctl', 'destroy', name];
    for (let attempt = 0; ; attempt++) {
      // 14: the config went away meanwhile; 21: so did the name; 32: someone started it.
      const accept = [0, VZ_EXIT.NO_CONFIG, VZ_EXIT.BAD_VALUE, VZ_EXIT.RUNNING];
      const result = await this.command(host, op, argv, accept);
      if (result.exitCode === VZ_EXIT.RUNNING && attempt === 0) {
        await this.stopContainer(host, cfg, op, name, true);
        continue;
      }
      if (result.exitCode === VZ_EXIT.RUNNING) throw this.failure(op, argv, result);
      if (result.exitCode === VZ_EXIT.BAD_VALUE && (await this.statusOf(host, op, name))) {
        throw this.failure(op, argv, result);
      }
      return;
    }
  }

  private async execIn(
    host: HostTarget,
    cfg: OpenVzHostConfig,
    op: string,
    name: string,
    req: ExecRequest,
    sink?: ExecSink,
  ): Promise<ExecResult> {
    this.validateCommand(op, req.command, req.env);
    let argv: string[];
    if (cfg.tool === 'prlctl') {
      argv = ['prlctl', 'exec', name, '--without-shell', ...argvWithEnv(req.command, req.env)];
    } else if (cfg.execMode === 'exec2') {
      argv = ['vzctl', 'exec2', name, shellCommandLine(req.command, req.env)];
    } else {
      argv = ['vzctl', 'exec3', name, ...argvWithEnv(req.command, req.env)];
    }
    const options: RunOptions = {
      timeoutMs: req.timeoutMs,
      maxOutputBytes: req.maxOutputBytes,
      stdin: req.stdin,
      onStdout: sink ? (data) => sink('stdout', data) : undefined,
      onStderr: sink ? (data) => sink('stderr', data) : undefined,
    };
    const result = await this.run(host, op, argv, options);
    // exec2/exec3 exit with the command's status, which may collide with vzctl's own codes
    // (14 no config, 21 unknown name, 31 not running; prlctl: 255): look before blaming.
    const ambiguous = cfg.tool === 'prlctl' ? [1, 255] : [14, 20, 21, VZ_EXIT.NOT_RUNNING];
    if (!result.timedOut && result.exitCode !== null && ambiguous.includes(result.exitCode)) {
      const status = await this.statusOf(host, op, name);
      if (!status) throw new DriverError(op, `no container ${name} on ${host.name}`, false);
      if (!status.running) throw new DriverError(op, `container ${name} is not running`, false);
    }
    return {
      exitCode: result.exitCode,
      stdout: result.stdout,
      stderr: result.stderr,
      durationMs: result.durationMs,
      timedOut: result.timedOut,
      truncated: result.truncated,
    };
  }

  /** `vzctl status <name>`, or null when there is no such container. */
  private async statusOf(host: HostTarget, op: string, name: string): Promise<VzctlStatus | null> {
    const argv = ['vzctl', 'status', name];
    const result = await this.query(host, op, argv);
    // An unknown name is refused before any container is looked at: 21 ("Invalid ctid is
    // specified" on OpenVZ 7, "Bad CT ID" on 4.x). status takes no lock, so no 9 here.
    if (result.exitCode === VZ_EXIT.BAD_VALUE) return null;
    if (result.exitCode !== 0) throw this.failure(op, argv, result);
    let status: VzctlStatus;
    try {
      status = parseVzctlStatus(result.stdout);
    } catch (err) {
      throw new DriverError(op, (err as Error).message, false);
    }
    return status.exists ? status : null;
  }

  /** A free numeric CT id for vzctl 4.x: the name's candidates in turn, skipping used ones. */
  private async freeLegacyCtid(host: HostTarget, op: string, name: string): Promise<string> {
    for (let attempt = 0; attempt < LEGACY_CTID_PROBES; attempt++) {
      const ctid = String(legacyCtid(name, attempt));
      const argv = ['vzctl', 'status', ctid];
      const result = await this.query(host, op, argv);
      if (result.exitCode !== 0) throw this.failure(op, argv, result);
      if (!parseVzctlStatus(result.stdout).exists) return ctid;
    }
    throw new DriverError(op, `no free CT id for ${name} after ${LEGACY_CTID_PROBES} probes`);
  }

  // ---- running tools --------------------------------------------------------------------

  private serialized<T>(host: HostTarget, name: string, task: () => Promise<T>): Promise<T> {
    return this.queue.run(`${host.name}\0${host.address}\0${name}`, task);
  }

  private async run(
    host: HostTarget,
    op: string,
    argv: string[],
    options: RunOptions,
  ): Promise<RunResult> {
    try {
      return await host.runner.run(argv, options);
    } catch (err) {
      throw new DriverError(op, `cannot run ${argv[0]} on ${host.name}: ${(err as Error).message}`);
    }
  }

  /** A read-only command (status, vzlist): no lock, so no retry; a timeout is an error. */
  private async query(host: HostTarget, op: string, argv: string[]): Promise<RunResult> {
    const result = await this.run(host, op, argv, {
      timeoutMs: QUERY_TIMEOUT_MS,
      maxOutputBytes: CONTROL_OUTPUT_BYTES,
    });
    if (result.timedOut) throw new DriverError(op, `${this.show(argv)} timed out on ${host.name}`);
    return result;
  }

  /**
   * A lifecycle command. Exit 9 means another vzctl holds the container's lock, and vzctl
   * does not wait for it: retry with exponential backoff, a bounded number of times.
   */
  private async command(
    host: HostTarget,
    op: string,
    argv: string[],
    accept: readonly number[] = [0],
  ): Promise<RunResult> {
    for (let attempt = 0; ; attempt++) {
      const result = await this.run(host, op, argv, {
        timeoutMs: this.tunables.commandTimeoutMs,
        maxOutputBytes: CONTROL_OUTPUT_BYTES,
      });
      if (result.timedOut) {
        throw new DriverError(op, `${this.show(argv)} timed out on ${host.name}`);
      }
      if (result.exitCode === VZ_EXIT.LOCKED && argv[0] === 'vzctl') {
        if (attempt < this.tunables.lockRetries) {
          await sleep(this.backoff(attempt));
          continue;
        }
        throw new DriverError(
          op,
          `${this.show(argv)}: container still locked after ${attempt + 1} attempts: ${this.tail(result.stderr)}`,
        );
      }
      if (result.exitCode !== null && accept.includes(result.exitCode)) return result;
      throw this.failure(op, argv, result);
    }
  }

  private backoff(attempt: number): number {
    const base = Math.min(
      this.tunables.lockBackoffMaxMs,
      this.tunables.lockBackoffMs * 2 ** attempt,
    );
    // Jitter keeps several waiters on one busy container from retrying in step.
    return Math.round(base * (0.8 + 0.4 * Math.random()));
  }

  private failure(op: string, argv: string[], result: RunResult): DriverError {
    const code = result.exitCode;
    const how = code === null ? `was killed by ${result.signal}` : `exited ${code}`;
    const output = this.tail(result.stderr.trim() ? result.stderr : result.stdout);
    return new DriverError(
      op,
      `${this.show(argv)} ${how}: ${output}`,
      code === null || !NOT_RETRYABLE.has(code),
    );
  }

  /** The tool, its subcommand and the container: enough to know what failed, nothing user-supplied. */
  private show(argv: string[]): string {
    return argv.slice(0, 3).join(' ');
  }

  private tail(output: string): string {
    const oneLine = output
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean)
      .join(' | ');
    const limit = this.tunables.errorOutputChars;
    return oneLine.length > limit ? `…${oneLine.slice(-limit)}` : oneLine;
  }

  private assertOurs(op: string, name: string): void {
    if (!name.startsWith(CONTAINER_PREFIX) || !/^[0-9A-Za-z_.-]+$/.test(name)) {
      throw new DriverError(
        op,
        `refusing to touch ${JSON.stringify(name)}: not a warmpool container`,
        false,
      );
    }
  }

  private validateCommand(op: string, command: string[], env?: Record<string, string>): void {
    try {
      validateExec(command, env);
    } catch (err) {
      throw new DriverError(op, (err as Error).message, false);
    }
  }

  private decodeRef(op: string, ref: string): ReturnType<typeof decodeGoldenRef> {
    try {
      return decodeGoldenRef(ref);
    } catch (err) {
      throw new DriverError(op, (err as Error).message, false);
    }
  }
}
