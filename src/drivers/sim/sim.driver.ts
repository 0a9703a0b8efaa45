import { Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
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

export interface SimOptions {
  cloneMs: number;
  startMs: number;
  resetMs: number;
  destroyMs: number;
  buildMs: number;
  failureRate: number;
}

const DEFAULTS: SimOptions = {
  cloneMs: 50,
  startMs: 100,
  resetMs: 30,
  destroyMs: 20,
  buildMs: 0,
  failureRate: 0,
};

export function simOptions(options: Record<string, unknown>): SimOptions {
  const pick = (key: keyof SimOptions): number => {
    const value = options[key];
    return typeof value === 'number' && Number.isFinite(value) && value >= 0
      ? value
      : DEFAULTS[key];
  };
  return {
    cloneMs: pick('cloneMs'),
    startMs: pick('startMs'),
    resetMs: pick('resetMs'),
    destroyMs: pick('destroyMs'),
    buildMs: pick('buildMs'),
    failureRate: Math.min(1, pick('failureRate')),
  };
}

interface SimContainer {
  golden: string;
  running: boolean;
  ip: string | null;
}

/**
 * A real driver with nothing underneath: containers are entries with timers, latencies
 * and failure rates come from the host's options. For demos, load tests and the simulator.
 * `exec` runs nothing; it answers a few commands deterministically (see simulateExec).
 */
@Injectable()
export class SimDriver extends ContainerDriver {
  readonly kind = 'sim' as const;
  private readonly hosts = new Map<string, Map<string, SimContainer>>();
  private readonly goldens = new Map<string, Set<string>>();

  async isAvailable(): Promise<boolean> {
    return true;
  }

  async prepareHost(): Promise<void> {}

  async buildTemplate(host: HostTarget, spec: TemplateBuildSpec): Promise<{ ref: string }> {
    const options = simOptions(host.options);
    await this.operate(options.buildMs, options, 'buildTemplate');
    const ref = `wpt-${spec.name}-v${spec.version}`;
    this.goldensOf(host).add(ref);
    return { ref };
  }

  async removeTemplate(host: HostTarget, ref: string): Promise<void> {
    this.goldensOf(host).delete(ref);
  }

  async clone(host: HostTarget, spec: ContainerSpec): Promise<void> {
    const options = simOptions(host.options);
    // No check that the golden exists: a simulated golden has no content, and a restarted
    // service (whose simulated hosts forgot everything) must still be able to clone.
    await this.operate(options.cloneMs, options, 'clone');
    const containers = this.containersOf(host);
    if (!containers.has(spec.name)) {
      containers.set(spec.name, { golden: spec.golden, running: false, ip: spec.ip });
    }
  }

  async start(host: HostTarget, spec: ContainerSpec): Promise<void> {
    const options = simOptions(host.options);
    const container = this.require(host, spec.name, 'start');
    await this.operate(options.startMs, options, 'start');
    container.running = true;
  }

  async healthcheck(host: HostTarget, name: string): Promise<void> {
    const container = this.require(host, name, 'healthcheck');
    if (!container.running) throw new DriverError('healthcheck', `${name} is not running`);
  }

  async exec(
    host: HostTarget,
    name: string,
    req: ExecRequest,
    sink?: ExecSink,
  ): Promise<ExecResult> {
    const container = this.require(host, name, 'exec');
    if (!container.running) throw new DriverError('exec', `${name} is not running`);
    return simulateExec(name, req, sink);
  }

  async reset(host: HostTarget, spec: ContainerSpec): Promise<void> {
    const options = simOptions(host.options);
    const container = this.require(host, spec.name, 'reset');
    await this.operate(options.resetMs, options, 'reset');
    container.running = true;
  }

  async destroy(host: HostTarget, name: string): Promise<void> {
    const options = simOptions(host.options);
    await this.operate(options.destroyMs, options, 'destroy');
    this.containersOf(host).delete(name);
  }

  async list(host: HostTarget): Promise<string[]> {
    return [...this.containersOf(host).keys()].filter((n) => n.startsWith(CONTAINER_PREFIX));
  }

  async describe(host: HostTarget, name: string): Promise<ContainerDescription> {
    const container = this.containersOf(host).get(name);
    if (!container) return { state: 'missing', ip: null };
    return { state: container.running ? 'running' : 'stopped', ip: container.ip };
  }

  private async operate(latencyMs: number, options: SimOptions, op: string): Promise<void> {
    if (latencyMs > 0) await sleep(latencyMs);
    if (options.failureRate > 0 && Math.random() < options.failureRate) {
      throw new DriverError(op, `simulated ${op} failure`);
    }
  }

  private require(host: HostTarget, name: string, op: string): SimContainer {
    const container = this.containersOf(host).get(name);
    if (!container) throw new DriverError(op, `no container ${name} on ${host.name}`);
    return container;
  }

  private containersOf(host: HostTarget): Map<string, SimContainer> {
    let map = this.hosts.get(host.name);
    if (!map) this.hosts.set(host.name, (map = new Map()));
    return map;
  }

  private goldensOf(host: HostTarget): Set<string> {
    let set = this.goldens.get(host.name);
    if (!set) this.goldens.set(host.name, (set = new Set()));
    return set;
  }
}

/**
 * Deterministic answers: `echo`, `true`, `false`, `id -u`, `id`, `hostname`, `cat` (stdin),
 * `sleep N` (really waits, so timeouts can be exercised); anything else exits 0 and says
 * what it would have run.
 */
export async function simulateExec(
  name: string,
  req: ExecRequest,
  sink?: ExecSink,
): Promise<ExecResult> {
  const started = Date.now();
  const [program, ...args] = req.command;
  let stdout = '';
  let exitCode: number | null = 0;
  let timedOut = false;
  switch (program) {
    case 'echo':
      stdout = `${args.join(' ')}\n`;
      break;
    case 'true':
      break;
    case 'false':
      exitCode = 1;
      break;
    case 'id':
      stdout = args[0] === '-u' ? '0\n' : 'uid=0(root) gid=0(root) groups=0(root)\n';
      break;
    case 'hostname':
      stdout = `${name}\n`;
      break;
    case 'cat':
      stdout = req.stdin ?? '';
      break;
    case 'sleep': {
      const wantMs = Math.max(0, Number(args[0]) * 1000 || 0);
      if (wantMs > req.timeoutMs) {
        await sleep(req.timeoutMs);
        timedOut = true;
        exitCode = null;
      } else {
        await sleep(wantMs);
      }
      break;
    }
    default:
      stdout = `sim: would run ${JSON.stringify(req.command)}\n`;
  }
  const truncated = Buffer.byteLength(stdout) > req.maxOutputBytes;
  if (truncated) stdout = Buffer.from(stdout).subarray(0, req.maxOutputBytes).toString('utf8');
  if (stdout && sink) sink('stdout', stdout);
  return { exitCode, stdout, stderr: '', durationMs: Date.now() - started, timedOut, truncated };
}
