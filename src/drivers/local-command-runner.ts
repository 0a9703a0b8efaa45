import { ChildProcess, spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import {
  CommandRunner,
  CommandStartError,
  DEFAULT_MAX_OUTPUT_BYTES,
  DEFAULT_TIMEOUT_MS,
  RunOptions,
  RunResult,
} from './command-runner';

/** Variables a child inherits from the service; everything else (tokens, URLs) stays out. */
const INHERITED_ENV = ['PATH', 'HOME', 'USER', 'LANG', 'LC_ALL', 'TMPDIR'];

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * After the program exits, output still in flight is collected until the pipes have been
 * quiet this long; a background process that inherited them cannot hold the run open.
 */
const DRAIN_QUIET_MS = 100;
const DRAIN_MAX_MS = 1000;

export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of INHERITED_ENV) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return { ...env, ...extra };
}

/**
 * Rejects names that would smuggle a second variable in (`A=B`) or that a shell could not
 * export; both runners check before starting anything.
 */
export function assertValidEnv(argv0: string, env: Record<string, string> = {}): void {
  for (const name of Object.keys(env)) {
    if (!ENV_NAME.test(name)) {
      throw new CommandStartError(
        argv0,
        `invalid environment variable name: ${JSON.stringify(name)}`,
      );
    }
  }
}

/** Collects one output stream up to a byte cap, decoding UTF-8 across chunk borders. */
export class BoundedOutput {
  private readonly decoder = new StringDecoder('utf8');
  private text = '';
  private bytes = 0;
  truncated = false;

  constructor(
    private readonly maxBytes: number,
    private readonly onChunk?: (chunk: string) => void,
  ) {}

  push(chunk: Buffer): void {
    if (this.truncated) return;
    const room = this.maxBytes - this.bytes;
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    if (kept.length < chunk.length) this.truncated = true;
    this.bytes += kept.length;
    const decoded = this.decoder.write(kept);
    if (decoded) {
      this.text += decoded;
      this.onChunk?.(decoded);
    }
  }

  finish(): string {
    // A multi-byte character cut by the cap is dropped rather than emitted as garbage.
    if (!this.truncated) {
      const rest = this.decoder.end();
      if (rest) {
        this.text += rest;
        this.onChunk?.(rest);
      }
    }
    return this.text;
  }
}

/**
 * Calls `done` once the output pipes have been quiet for `quietMs`. A timer that fires late
 * (busy event loop) must not cut off output still sitting in a pipe, so the check waits for
 * one more poll phase and starts over if data came in meanwhile.
 */
export class QuietWindow {
  private timer: NodeJS.Timeout | undefined;
  private activity = false;
  private stopped = false;

  constructor(
    private readonly quietMs: number,
    private readonly done: () => void,
  ) {}

  start(): void {
    this.activity = false;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => setImmediate(() => this.check()), this.quietMs);
  }

  touch(): void {
    this.activity = true;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private check(): void {
    if (this.stopped) return;
    if (this.activity) this.start();
    else this.done();
  }
}

/** SIGKILL to a whole process group; a group that is already gone is not an error. */
export function killProcessGroup(child: ChildProcess): void {
  if (!child.pid) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // ESRCH: every member has exited already.
  }
}

/**
 * Runs argv on this machine with spawn (no shell). The child leads its own process group
 * so a timeout kills everything it started, not just the first process. The run ends when
 * the program exits; processes it left in the background (daemons such as `lxc-start -d`)
 * are killed only when the run timed out.
 */
export class LocalCommandRunner extends CommandRunner {
  readonly address = 'local';

  run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    if (argv.length === 0) return Promise.reject(new CommandStartError('', 'empty argv'));
    try {
      assertValidEnv(argv[0], options.env);
    } catch (err) {
      return Promise.reject(err);
    }
    const started = Date.now();
    const maxBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    const stdout = new BoundedOutput(maxBytes, options.onStdout);
    const stderr = new BoundedOutput(maxBytes, options.onStderr);

    return new Promise<RunResult>((resolve, reject) => {
      let child: ChildProcess;
      try {
        child = spawn(argv[0], argv.slice(1), {
          detached: true,
          stdio: ['pipe', 'pipe', 'pipe'],
          env: childEnv(options.env),
        });
      } catch (err) {
        // spawn throws synchronously for arguments it cannot pass (a NUL byte, a non-string).
        reject(new CommandStartError(argv[0], `cannot run ${argv[0]}: ${(err as Error).message}`));
        return;
      }
      const { stdin: childStdin, stdout: childStdout, stderr: childStderr } = child;
      if (!childStdin || !childStdout || !childStderr) {
        reject(new CommandStartError(argv[0], `cannot run ${argv[0]}: no stdio pipes`));
        return;
      }

      let settled = false;
      let timedOut = false;
      let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
      let drainMaxTimer: NodeJS.Timeout | undefined;

      const timer = setTimeout(() => {
        timedOut = true;
        killProcessGroup(child);
      }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);

      const finish = (): void => {
        if (settled || !exit) return;
        settled = true;
        clearTimeout(timer);
        drain.stop();
        clearTimeout(drainMaxTimer);
        // Descendants that outlived the leader of a timed-out run die with the group.
        if (timedOut) killProcessGroup(child);
        // A leftover holding our pipes gets EPIPE from now on instead of pinning file descriptors.
        childStdout.destroy();
        childStderr.destroy();
        resolve({
          exitCode: exit.code,
          signal: exit.signal,
          stdout: stdout.finish(),
          stderr: stderr.finish(),
          timedOut,
          truncated: stdout.truncated || stderr.truncated,
          durationMs: Date.now() - started,
        });
      };

      const drain = new QuietWindow(DRAIN_QUIET_MS, finish);

      childStdout.on('data', (chunk: Buffer) => {
        drain.touch();
        stdout.push(chunk);
      });
      childStderr.on('data', (chunk: Buffer) => {
        drain.touch();
        stderr.push(chunk);
      });
      child.on('error', (err: NodeJS.ErrnoException) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(new CommandStartError(argv[0], `cannot run ${argv[0]}: ${err.code ?? err.message}`));
      });
      child.on('exit', (code, signal) => {
        exit = { code, signal };
        drain.start();
        drainMaxTimer = setTimeout(finish, DRAIN_MAX_MS);
      });
      // 'close' follows 'exit' once both pipes reach EOF: the usual, immediate path.
      child.on('close', finish);

      // A child that exits without reading stdin makes the write fail with EPIPE; that is fine.
      childStdin.on('error', () => undefined);
      if (options.stdin !== undefined) childStdin.end(options.stdin);
      else childStdin.end();
    });
  }
}
