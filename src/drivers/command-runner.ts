/**
 * The only way warmpool runs a program: an argv array, never a shell string.
 * Implementations: LocalCommandRunner (child_process.spawn without a shell) and
 * SshCommandRunner (the same argv, quoted word by word for the remote shell).
 */
export interface RunOptions {
  /** Kill the whole process group after this long; the result then has timedOut: true. */
  timeoutMs?: number;
  /** Cap per stream; output beyond it is dropped and the result has truncated: true. */
  maxOutputBytes?: number;
  stdin?: string | Buffer;
  /** Extra environment for the program (added to a minimal base, never the service's secrets). */
  env?: Record<string, string>;
  /** Streaming: called with each chunk as it is produced (after the cap, nothing more is sent). */
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
}

export interface RunResult {
  /** null when the program was killed by a signal. */
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  truncated: boolean;
  durationMs: number;
}

export abstract class CommandRunner {
  /** Where the commands run: 'local' or 'ssh://user@host:port'. */
  abstract readonly address: string;
  abstract run(argv: readonly string[], options?: RunOptions): Promise<RunResult>;
}

/** Thrown when a command cannot be started at all (missing binary, ssh refused). */
export class CommandStartError extends Error {
  constructor(
    readonly argv0: string,
    message: string,
  ) {
    super(message);
    this.name = 'CommandStartError';
  }
}

export const DEFAULT_TIMEOUT_MS = 120_000;
export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;
