import type { CommandRunner } from './command-runner';

export type DriverKind = 'lxc' | 'openvz' | 'sim';
export type NetworkMode = 'isolated' | 'shared' | 'none';

/** What a driver needs to know of the host it acts on. */
export interface HostTarget {
  name: string;
  /** 'local' or 'ssh://user@host:port'. */
  address: string;
  options: Record<string, unknown>;
  /** CIDR the host's container addresses come from, e.g. 10.88.0.0/22. */
  subnet: string;
  /** The first address of the subnet: the host's side of the container network. */
  gateway: string;
  prefixLength: number;
  /** Runs commands on this host (local or over SSH). */
  runner: CommandRunner;
}

export interface ResourceLimits {
  cpus?: number;
  memoryMb?: number;
  swapMb?: number;
  diskMb?: number;
  cpuLimitPercent?: number;
  iops?: number;
  network: NetworkMode;
}

export interface TemplateBuildSpec {
  name: string;
  version: number;
  /** Driver-specific: lxc { lxcTemplate | rootfs }, openvz { ostemplate }, sim {}. */
  source: Record<string, unknown>;
  /** argv commands run once inside the golden container before it is frozen. */
  setup: string[][];
}

export interface ContainerSpec {
  /** Our name for it on the host, always starting with `wp-`. */
  name: string;
  /** The golden image's reference on this host, as returned by buildTemplate. */
  golden: string;
  resources: ResourceLimits;
  /** The address allocated to it from the host's subnet (null with network 'none'). */
  ip: string | null;
}

export interface ExecRequest {
  command: string[];
  env?: Record<string, string>;
  stdin?: string;
  timeoutMs: number;
  maxOutputBytes: number;
}

export interface ExecResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
  truncated: boolean;
}

export type ExecSink = (stream: 'stdout' | 'stderr', data: string) => void;

export interface ContainerDescription {
  state: 'running' | 'stopped' | 'missing';
  ip: string | null;
}

/**
 * The port every container platform is adapted to. Each operation is idempotent where
 * the platform allows: destroying a missing container succeeds, starting a running one
 * succeeds. Errors are thrown as DriverError so the caller can count and report them.
 */
export abstract class ContainerDriver {
  abstract readonly kind: DriverKind;
  /** Whether this platform can run on the host (tools present, privileges held). */
  abstract isAvailable(host: HostTarget): Promise<boolean>;
  /** One-time host preparation (bridge, NAT); safe to call again. */
  abstract prepareHost(host: HostTarget): Promise<void>;
  abstract buildTemplate(host: HostTarget, spec: TemplateBuildSpec): Promise<{ ref: string }>;
  abstract removeTemplate(host: HostTarget, ref: string): Promise<void>;
  abstract clone(host: HostTarget, spec: ContainerSpec): Promise<void>;
  /** Start, wait until running, apply and verify the resource limits. */
  abstract start(host: HostTarget, spec: ContainerSpec): Promise<void>;
  abstract healthcheck(host: HostTarget, name: string): Promise<void>;
  abstract exec(
    host: HostTarget,
    name: string,
    req: ExecRequest,
    sink?: ExecSink,
  ): Promise<ExecResult>;
  /** Return the container to its pristine state and leave it running. */
  abstract reset(host: HostTarget, spec: ContainerSpec): Promise<void>;
  abstract destroy(host: HostTarget, name: string): Promise<void>;
  /** Names of our containers (prefix `wp-`) on the host. */
  abstract list(host: HostTarget): Promise<string[]>;
  abstract describe(host: HostTarget, name: string): Promise<ContainerDescription>;
}

export class DriverError extends Error {
  constructor(
    readonly op: string,
    message: string,
    /** false for errors retrying cannot fix (bad syntax, a bug in the driver). */
    readonly retryable = true,
  ) {
    super(message);
    this.name = 'DriverError';
  }
}

export const CONTAINER_PREFIX = 'wp-';
