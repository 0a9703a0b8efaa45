import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  CommandRunner,
  CommandStartError,
  DEFAULT_MAX_OUTPUT_BYTES,
  DEFAULT_TIMEOUT_MS,
  RunOptions,
  RunResult,
} from './command-runner';
import {
  assertValidEnv,
  BoundedOutput,
  childEnv,
  killProcessGroup,
  QuietWindow,
} from './local-command-runner';

export interface SshTarget {
  user: string;
  /** A hostname, an IPv4 address or a bare IPv6 address (no brackets). */
  host: string;
  port: number;
}

/**
 * What a host's `options` object may say about SSH (other keys belong to the driver):
 * - `sshKey`: absolute path of the private key; without it ssh's default identities
 *   (~/.ssh/id_*) of the service's user are tried. No agent is ever used.
 * - `knownHosts`: absolute path of the known_hosts file holding this host's key; without it
 *   ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts. For a port other than 22 the entry
 *   is written `[host]:port keytype key`.
 * - `strictHostKeyChecking`: 'yes' (default; an unknown or changed host key is refused) or
 *   'accept-new' (trust on first use, then pinned in knownHosts, which must be writable).
 *   'no' is refused: the builds' commands would run wherever that address leads.
 */
export interface SshOptions {
  sshKey?: string;
  knownHosts?: string;
  strictHostKeyChecking: 'yes' | 'accept-new';
}

const SSH_BINARY = 'ssh';
const CONNECT_TIMEOUT_S = 10;
const SERVER_ALIVE_INTERVAL_S = 15;
const SERVER_ALIVE_COUNT_MAX = 3;
/** How long the remote side gets to kill its process group after we close its stdin. */
const REMOTE_KILL_GRACE_MS = 5000;
/** Remote deadline = local timeout + this: a backstop for a connection that hangs open. */
const REMOTE_DEADLINE_SLACK_S = 5;
/**
 * After the exit line, output still in flight is collected until both streams have been
 * quiet this long (stdout travels apart from stderr, so it may lag behind the exit line).
 */
const DRAIN_QUIET_MS = 300;
/** Login noise (rc files, ssh's messages) before the ready line, kept for the error message. */
const MAX_PREAMBLE_BYTES = 16 * 1024;

/** First line the remote wrapper writes to stderr: from here on, stderr is the command's. */
export const READY_MARKER = 'warmpool-ssh-ready';
const READY_LINE = Buffer.from(`${READY_MARKER}\n`);
/** Last line on stderr, `warmpool-ssh-exit:<nonce>:<status>`; the nonce makes it unforgeable. */
const EXIT_PREFIX = 'warmpool-ssh-exit:';

/** Quotes one word for a POSIX shell: inside single quotes only `'` itself is special. */
export function shellQuote(word: string): string {
  if (word.includes('\0')) throw new Error('a shell word cannot contain a NUL byte');
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs on the remote host under /bin/sh as `sh -c SCRIPT warmpool N DEADLINE ARGV...`.
 * stdin carries a nonce line, exactly N bytes for the command, then nothing until the
 * client closes it or the connection drops: that EOF is the kill signal, because sshd
 * does not signal a session without a tty when its client goes away. GNU `timeout` puts
 * the command in its own process group, so one kill reaches everything it started, and
 * is the backstop if the connection hangs open. The command reads its stdin from a
 * temporary file so that the watchdog never competes with it for the connection's bytes.
 * After a normal exit the watchdog is stopped first: background processes survive, as
 * they do locally.
 */
export const REMOTE_WRAPPER = [
  `echo ${READY_MARKER} >&2`,
  'n=$1 d=$2',
  'shift 2',
  'exec 3<&0 </dev/null',
  'IFS= read -r nonce <&3 || exit 255',
  'if [ "$n" -gt 0 ]; then',
  '  t=$(mktemp) || exit 255',
  '  head -c "$n" <&3 >"$t"',
  '  got=$(wc -c <"$t")',
  '  exec 4<"$t"',
  '  rm -f "$t"',
  '  [ $got -eq "$n" ] || exit 255',
  'else',
  '  exec 4</dev/null',
  'fi',
  'timeout -s KILL "$d" "$@" <&4 3<&- 4<&- &',
  'pid=$!',
  'exec 4<&-',
  // The whole group in one kill: killing the leader alone would end the `wait` below, and
  // the wrapper would stop the watchdog before it got to the rest. No group yet means
  // `timeout` has not reached setpgid (nor forked): kill it, and look again.
  '(while read -r x; do :; done',
  ' until kill -s KILL -- "-$pid"; do kill -s KILL "$pid" || break; done) <&3 >/dev/null 2>&1 &',
  'watch=$!',
  'exec 3<&-',
  // 2>/dev/null: dash would report "Killed" for a timed-out command on the command's stderr.
  'wait "$pid" 2>/dev/null',
  'status=$?',
  'kill -s KILL "$watch" 2>/dev/null',
  `echo "${EXIT_PREFIX}$nonce:$status" >&2`,
  'exit "$status"',
].join('\n');

/** The string the remote login shell (POSIX-compatible: sh, bash, dash, zsh, ksh) runs. */
export function buildRemoteCommand(
  argv: readonly string[],
  env: Record<string, string>,
  stdinBytes: number,
  deadlineSeconds: number,
): string {
  const assignments = Object.entries(env).map(([name, value]) => `${name}=${value}`);
  const command = assignments.length > 0 ? ['env', '--', ...assignments, ...argv] : [...argv];
  const words = ['/bin/sh', '-c', REMOTE_WRAPPER, 'warmpool', String(stdinBytes)];
  words.push(String(deadlineSeconds), ...command);
  return `exec ${words.map(shellQuote).join(' ')}`;
}

function optionalPath(options: Record<string, unknown>, key: string): string | undefined {
  const value = options[key];
  if (value === undefined || value === null) return undefined;
  // ssh splits option values on whitespace and expands % and ~ in them.
  if (typeof value !== 'string' || !/^\/[^\s%"'\\]*$/.test(value)) {
    throw new Error(`host option ${key} must be an absolute path without spaces, quotes or %`);
  }
  return value;
}

export function parseSshOptions(options: Record<string, unknown>): SshOptions {
  const strict = options.strictHostKeyChecking ?? 'yes';
  if (strict !== 'yes' && strict !== 'accept-new') {
    throw new Error(`host option strictHostKeyChecking must be 'yes' or 'accept-new'`);
  }
  return {
    sshKey: optionalPath(options, 'sshKey'),
    knownHosts: optionalPath(options, 'knownHosts'),
    strictHostKeyChecking: strict,
  };
}

/** ssh's own argv; `-F none` so that no ssh_config (ControlMaster, ProxyCommand…) changes it. */
export function sshArgv(target: SshTarget, options: SshOptions, remoteCommand: string): string[] {
  const args = ['-F', 'none', '-T', '-p', String(target.port), '-l', target.user];
  const settings = [
    'BatchMode=yes',
    `ConnectTimeout=${CONNECT_TIMEOUT_S}`,
    `ServerAliveInterval=${SERVER_ALIVE_INTERVAL_S}`,
    `ServerAliveCountMax=${SERVER_ALIVE_COUNT_MAX}`,
    `StrictHostKeyChecking=${options.strictHostKeyChecking}`,
    'LogLevel=ERROR',
    'ClearAllForwardings=yes',
  ];
  if (options.knownHosts) settings.push(`UserKnownHostsFile=${options.knownHosts}`);
  if (options.sshKey) settings.push(`IdentityFile=${options.sshKey}`, 'IdentitiesOnly=yes');
  for (const setting of settings) args.push('-o', setting);
  args.push('--', target.host, remoteCommand);
  return args;
}

/**
 * Splits the ssh client's stderr into what came before the wrapper's ready line (ssh's
 * own messages, login noise: kept aside for errors), the command's stderr, and the exit
 * line, which is cut out. A tail that could be the start of the exit line is held back
 * until the next chunk shows whether it is.
 */
export class RemoteStderr {
  private preamble = Buffer.alloc(0);
  private pending = Buffer.alloc(0);
  private readonly exitHead: Buffer;
  ready = false;
  exitStatus: number | null = null;

  constructor(
    nonce: string,
    private readonly out: BoundedOutput,
    private readonly onExit: () => void,
  ) {
    this.exitHead = Buffer.from(`${EXIT_PREFIX}${nonce}:`);
  }

  push(chunk: Buffer): void {
    if (!this.ready) {
      this.preamble = Buffer.concat([this.preamble, chunk]);
      const at = this.preamble.indexOf(READY_LINE);
      if (at < 0) {
        if (this.preamble.length > MAX_PREAMBLE_BYTES) {
          this.preamble = this.preamble.subarray(this.preamble.length - MAX_PREAMBLE_BYTES);
        }
        return;
      }
      this.ready = true;
      chunk = this.preamble.subarray(at + READY_LINE.length);
    }
    if (this.exitStatus !== null) {
      this.out.push(chunk);
      return;
    }
    this.pending = Buffer.concat([this.pending, chunk]);
    const at = this.pending.indexOf(this.exitHead);
    if (at >= 0) {
      const end = this.pending.indexOf(0x0a, at);
      if (end < 0) {
        this.out.push(this.pending.subarray(0, at));
        this.pending = this.pending.subarray(at);
        return;
      }
      const status = Number(this.pending.subarray(at + this.exitHead.length, end).toString());
      this.out.push(this.pending.subarray(0, at));
      this.out.push(this.pending.subarray(end + 1));
      this.pending = Buffer.alloc(0);
      this.exitStatus = Number.isInteger(status) ? status : null;
      this.onExit();
      return;
    }
    const hold = this.partialHeadLength();
    this.out.push(this.pending.subarray(0, this.pending.length - hold));
    this.pending = this.pending.subarray(this.pending.length - hold);
  }

  /** At the end of the stream whatever was held back is plain output after all. */
  flush(): void {
    if (this.pending.length > 0) this.out.push(this.pending);
    this.pending = Buffer.alloc(0);
  }

  preambleText(): string {
    return this.preamble.toString('utf8').trim();
  }

  private partialHeadLength(): number {
    const max = Math.min(this.pending.length, this.exitHead.length - 1);
    for (let k = max; k > 0; k--) {
      const tail = this.pending.subarray(this.pending.length - k);
      if (tail.equals(this.exitHead.subarray(0, k))) return k;
    }
    return 0;
  }
}

/**
 * Runs argv on another machine through the system `ssh` client (spawned without a shell).
 * The remote login shell does parse the command, so every word is single-quoted; the
 * remote host needs /bin/sh, coreutils (timeout, head, mktemp, wc, env).
 *
 * Failure contract: when ssh cannot connect, authenticate or verify the host key, or the
 * remote wrapper never starts, run() rejects with CommandStartError carrying ssh's
 * message. Once the wrapper has started, the result is the command's: its exit code comes
 * from the wrapper's exit line (so a 255 is the command's own), a death by signal shows as
 * 128+n as a shell reports it, and a connection lost mid-run resolves with ssh's exit code
 * (255) and ssh's message at the end of stderr.
 *
 * Timeout: ssh's stdin is closed, the remote watchdog kills the command's process group
 * and the session ends by itself, so when run() resolves the remote side is gone. If it
 * does not answer within a grace period, the local ssh is killed, which drops the
 * connection and so reaches the same watchdog.
 */
export class SshCommandRunner extends CommandRunner {
  readonly address: string;

  constructor(
    private readonly target: SshTarget,
    private readonly options: SshOptions,
  ) {
    super();
    const host = target.host.includes(':') ? `[${target.host}]` : target.host;
    this.address = `ssh://${target.user}@${host}:${target.port}`;
  }

  run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    if (argv.length === 0) return Promise.reject(new CommandStartError('', 'empty argv'));
    // `env` would take a program name containing '=' for one more assignment.
    if (argv[0].includes('=')) {
      return Promise.reject(new CommandStartError(argv[0], 'program name cannot contain "="'));
    }
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const stdin = Buffer.from(options.stdin ?? '');
    let remoteCommand: string;
    try {
      assertValidEnv(argv[0], options.env);
      const deadline = Math.ceil(timeoutMs / 1000) + REMOTE_DEADLINE_SLACK_S;
      remoteCommand = buildRemoteCommand(argv, options.env ?? {}, stdin.length, deadline);
    } catch (err) {
      if (err instanceof CommandStartError) return Promise.reject(err);
      return Promise.reject(new CommandStartError(argv[0], (err as Error).message));
    }
    return this.spawnSsh(argv[0], remoteCommand, stdin, timeoutMs, options);
  }

  private spawnSsh(
    argv0: string,
    remoteCommand: string,
    stdin: Buffer,
    timeoutMs: number,
    options: RunOptions,
  ): Promise<RunResult> {
    const started = Date.now();
    const maxBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    const stdout = new BoundedOutput(maxBytes, options.onStdout);
    const stderr = new BoundedOutput(maxBytes, options.onStderr);
    const nonce = randomBytes(16).toString('hex');

    return new Promise<RunResult>((resolve, reject) => {
      // The ssh client gets the service's minimal env: no tokens, no SSH_AUTH_SOCK.
      const child: ChildProcess = spawn(
        SSH_BINARY,
        sshArgv(this.target, this.options, remoteCommand),
        { detached: true, stdio: ['pipe', 'pipe', 'pipe'], env: childEnv() },
      );
      const { stdin: sshStdin, stdout: sshStdout, stderr: sshStderr } = child;
      if (!sshStdin || !sshStdout || !sshStderr) {
        reject(new CommandStartError(SSH_BINARY, 'cannot run ssh: no stdio pipes'));
        return;
      }

      let settled = false;
      let timedOut = false;
      let graceTimer: NodeJS.Timeout | undefined;

      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        clearTimeout(graceTimer);
        drain.stop();
        return true;
      };

      const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (!settle()) return;
        remote.flush();
        let exitCode = remote.exitStatus ?? code;
        let exitSignal: string | null = remote.exitStatus === null ? signal : null;
        if (timedOut && exitCode === 137) {
          // The watchdog's SIGKILL, reported as a local kill is.
          exitCode = null;
          exitSignal = 'SIGKILL';
        }
        // Background processes the command left holding its output lose the connection.
        if (child.exitCode === null && child.signalCode === null) killProcessGroup(child);
        resolve({
          exitCode,
          signal: exitSignal,
          stdout: stdout.finish(),
          stderr: stderr.finish(),
          timedOut,
          truncated: stdout.truncated || stderr.truncated,
          durationMs: Date.now() - started,
        });
      };

      // Once the command has exited, the session may stay open while a background process
      // holds its output; that must not keep the run (or its timeout) going.
      const drain = new QuietWindow(DRAIN_QUIET_MS, () => finish(null, null));
      const remote = new RemoteStderr(nonce, stderr, () => drain.start());

      const timer = setTimeout(() => {
        timedOut = true;
        if (!remote.ready) {
          // Nothing runs remotely yet, and a wrapper about to start sees EOF and gives up.
          killProcessGroup(child);
          return;
        }
        sshStdin.destroy();
        graceTimer = setTimeout(() => killProcessGroup(child), REMOTE_KILL_GRACE_MS);
      }, timeoutMs);

      sshStdout.on('data', (chunk: Buffer) => {
        drain.touch();
        stdout.push(chunk);
      });
      sshStderr.on('data', (chunk: Buffer) => {
        drain.touch();
        remote.push(chunk);
      });
      child.on('error', (err: NodeJS.ErrnoException) => {
        if (!settle()) return;
        reject(new CommandStartError(SSH_BINARY, `cannot run ssh: ${err.code ?? err.message}`));
      });
      child.on('close', (code, signal) => {
        if (!remote.ready && !timedOut) {
          if (!settle()) return;
          const why = remote.preambleText() || `ssh exited with ${code ?? signal}`;
          reject(new CommandStartError(argv0, `ssh to ${this.address} failed: ${why}`));
          return;
        }
        finish(code, signal);
      });

      // ssh exits (EPIPE here) when it cannot connect; the close handler reports that.
      sshStdin.on('error', () => undefined);
      // The stdin pipe stays open: its EOF is what tells the remote side to kill the command.
      sshStdin.write(Buffer.concat([Buffer.from(`${nonce}\n`), stdin]));
    });
  }
}
