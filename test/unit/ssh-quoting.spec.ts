import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BoundedOutput } from '../../src/drivers/local-command-runner';
import {
  buildRemoteCommand,
  parseSshOptions,
  READY_MARKER,
  RemoteStderr,
  shellQuote,
  sshArgv,
} from '../../src/drivers/ssh-command-runner';
import { HOSTILE_WORDS } from '../support/hostile-words';

/** The words as a shell sees them after parsing the quoted command line. */
function throughShell(shell: string, words: string[]): string[] {
  const script = `printf '%s\\0' ${words.map(shellQuote).join(' ')}`;
  const args = shell.endsWith('busybox') ? ['sh', '-c', script] : ['-c', script];
  const out = execFileSync(shell, args, { cwd: tmpdir() });
  return out.toString('utf8').split('\0').slice(0, -1);
}

const SHELLS = ['/bin/sh', '/bin/dash', '/bin/bash', '/bin/zsh', '/bin/ksh', '/bin/busybox'].filter(
  (shell) => existsSync(shell),
);

describe('shellQuote', () => {
  it('wraps in single quotes and escapes only the single quote', () => {
    expect(shellQuote('plain')).toBe("'plain'");
    expect(shellQuote('')).toBe("''");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('$(x) `y` "z"')).toBe(`'$(x) \`y\` "z"'`);
  });

  it.each(SHELLS)('survives %s parsing every hostile word unchanged', (shell) => {
    expect(throughShell(shell, HOSTILE_WORDS)).toEqual(HOSTILE_WORDS);
    expect(existsSync('/tmp/warmpool-pwned')).toBe(false);
  });

  it('survives random words made of the characters shells care about', () => {
    const alphabet = ` \t\n'"\\$\`;&|<>(){}[]*?~!#%=,.:-_aZ9é漢🚀`;
    const chars = Array.from(alphabet);
    let seed = 12345;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const words = Array.from({ length: 300 }, () =>
      Array.from({ length: random(12) }, () => chars[random(chars.length)]).join(''),
    );
    expect(throughShell('/bin/sh', words)).toEqual(words);
  });

  it('refuses a NUL byte, which no argv word can hold', () => {
    expect(() => shellQuote('a\0b')).toThrow(/NUL/);
  });
});

/**
 * The remote wrapper run by a local /bin/sh, standing in for sshd: stdin carries the nonce
 * line and the command's input, then stays open as the connection would.
 */
function startWrapper(
  argv: string[],
  opts: { env?: Record<string, string>; stdin?: string; deadline?: number } = {},
): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const input = Buffer.from(opts.stdin ?? '');
  const command = buildRemoteCommand(argv, opts.env ?? {}, input.length, opts.deadline ?? 30);
  const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin?.write(Buffer.concat([Buffer.from('n0nce\n'), input]));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => {
      child.stdin?.destroy();
      resolve({ code, stdout, stderr });
    }),
  );
  return { child, done };
}

function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('remote wrapper (buildRemoteCommand) under a local /bin/sh', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'warmpool-wrapper-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs argv literally, passes stdin, env and the exit status, and marks start and end', async () => {
    const { done } = startWrapper(
      [
        'sh',
        '-c',
        'printf "%s\\n" "$@"; printf "[%s]" "$WP_VAR"; cat; exit 42',
        'sh',
        ...HOSTILE_WORDS,
      ],
      { env: { WP_VAR: "v'$(x)" }, stdin: 'in\nput' },
    );
    const result = await done;
    expect(result.code).toBe(42);
    expect(result.stdout).toBe(`${HOSTILE_WORDS.map((w) => `${w}\n`).join('')}[v'$(x)]in\nput`);
    expect(result.stderr).toBe(`${READY_MARKER}\nwarmpool-ssh-exit:n0nce:42\n`);
  });

  it('gives a command no stdin (EOF) when there is none, though the connection stays open', async () => {
    const { done } = startWrapper(['cat']);
    expect(await done).toMatchObject({ code: 0, stdout: '' });
  });

  /** Closes the "connection" once the command has started (or at once) and checks nothing survives. */
  async function closeAndCheck(run: number, waitForStart: boolean): Promise<void> {
    const pidFile = join(dir, `pids-${run}`);
    const script = 'sleep 100 & echo $! >"$1.tmp"; echo $$ >>"$1.tmp"; mv "$1.tmp" "$1"; wait';
    const { child, done } = startWrapper(['sh', '-c', script, 'sh', pidFile]);
    const readPids = (): number[] =>
      existsSync(pidFile) ? readFileSync(pidFile, 'utf8').trim().split('\n').map(Number) : [];
    if (waitForStart) {
      const deadline = Date.now() + 5000;
      while (readPids().length === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(readPids().filter(isAlive)).toHaveLength(2);
    }
    child.stdin?.end();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'hung'>((resolve) => (timer = setTimeout(resolve, 5000, 'hung')));
    const outcome = await Promise.race([done, timeout]);
    clearTimeout(timer);
    const survivors = readPids().filter(isAlive);
    for (const pid of survivors) process.kill(pid, 'SIGKILL');
    expect({ run, outcome: outcome === 'hung' ? 'hung' : 'ended', survivors }).toEqual({
      run,
      outcome: 'ended',
      survivors: [],
    });
  }

  it('kills the command and everything it started when the connection closes', async () => {
    // Repeated, in parallel for load: the kill races with the wrapper reaping the command.
    for (let round = 0; round < 4; round++) {
      await Promise.all(Array.from({ length: 8 }, (_, i) => closeAndCheck(round * 8 + i, true)));
    }
  });

  it('leaves nothing running when the connection closes while the command is starting', async () => {
    for (let round = 0; round < 4; round++) {
      await Promise.all(Array.from({ length: 8 }, (_, i) => closeAndCheck(round * 8 + i, false)));
    }
  });

  it('stops by itself at the remote deadline if the connection never closes', async () => {
    const started = Date.now();
    const { done } = startWrapper(['sleep', '100'], { deadline: 1 });
    expect((await done).code).toBe(137);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('does not run the command when the client is gone before stdin arrived', async () => {
    const marker = join(dir, 'ran');
    const command = buildRemoteCommand(['touch', marker], {}, 5, 30);
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'ignore', 'ignore'] });
    child.stdin?.end('n0nce\nab');
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(255);
    expect(existsSync(marker)).toBe(false);
  });
});

describe('sshArgv', () => {
  const target = { user: 'deploy', host: 'node-1.example.com', port: 2222 };

  it('uses batch mode, the key, the known_hosts and ends options before the host', () => {
    const options = parseSshOptions({
      sshKey: '/etc/warmpool/id_ed25519',
      knownHosts: '/etc/warmpool/kh',
    });
    const argv = sshArgv(target, options, 'REMOTE');
    expect(argv.slice(0, 8)).toEqual(['-F', 'none', '-T', '-p', '2222', '-l', 'deploy', '-o']);
    expect(argv).toEqual(
      expect.arrayContaining([
        'BatchMode=yes',
        'StrictHostKeyChecking=yes',
        'UserKnownHostsFile=/etc/warmpool/kh',
        'IdentityFile=/etc/warmpool/id_ed25519',
        'IdentitiesOnly=yes',
      ]),
    );
    expect(argv.slice(-3)).toEqual(['--', 'node-1.example.com', 'REMOTE']);
  });

  it('leaves out key and known_hosts when not configured', () => {
    const argv = sshArgv(target, parseSshOptions({}), 'REMOTE').join(' ');
    expect(argv).not.toMatch(/IdentityFile|UserKnownHostsFile/);
  });
});

describe('parseSshOptions', () => {
  it('defaults to strict host key checking and ignores the driver options', () => {
    expect(parseSshOptions({ lxcPath: '/var/lib/lxc' })).toEqual({
      sshKey: undefined,
      knownHosts: undefined,
      strictHostKeyChecking: 'yes',
    });
    expect(parseSshOptions({ strictHostKeyChecking: 'accept-new' }).strictHostKeyChecking).toBe(
      'accept-new',
    );
  });

  it.each([
    [{ strictHostKeyChecking: 'no' }, /strictHostKeyChecking/],
    [{ strictHostKeyChecking: false }, /strictHostKeyChecking/],
    [{ sshKey: 'relative/key' }, /sshKey/],
    [{ sshKey: '/path with space' }, /sshKey/],
    [{ sshKey: '/home/%u/key' }, /sshKey/],
    [{ knownHosts: 42 }, /knownHosts/],
  ])('refuses %p', (options, message) => {
    expect(() => parseSshOptions(options)).toThrow(message);
  });
});

describe('RemoteStderr', () => {
  const exitLine = 'warmpool-ssh-exit:abc123:7\n';

  function feed(chunks: string[]): { text: string; status: number | null; exits: number } {
    const out = new BoundedOutput(1 << 20);
    let exits = 0;
    const remote = new RemoteStderr('abc123', out, () => exits++);
    for (const chunk of chunks) remote.push(Buffer.from(chunk));
    remote.flush();
    return { text: out.finish(), status: remote.exitStatus, exits };
  }

  it('drops what comes before the ready line and cuts out the exit line', () => {
    const stream = `motd noise\n${READY_MARKER}\nwarn: x\n${exitLine}late\n`;
    expect(feed([stream])).toEqual({ text: 'warn: x\nlate\n', status: 7, exits: 1 });
  });

  it('finds both lines however the stream is split into chunks', () => {
    const stream = `${READY_MARKER}\nerr é\n${exitLine}`;
    const bytes = Array.from(Buffer.from(stream));
    for (let cut = 1; cut < bytes.length; cut++) {
      const a = Buffer.from(bytes.slice(0, cut)).toString('latin1');
      const b = Buffer.from(bytes.slice(cut)).toString('latin1');
      const out = new BoundedOutput(1000);
      const remote = new RemoteStderr('abc123', out, () => undefined);
      remote.push(Buffer.from(a, 'latin1'));
      remote.push(Buffer.from(b, 'latin1'));
      remote.flush();
      expect({ cut, text: out.finish(), status: remote.exitStatus }).toEqual({
        cut,
        text: 'err é\n',
        status: 7,
      });
    }
  });

  it('passes through an exit line with the wrong nonce, as the command could print one', () => {
    const fake = 'warmpool-ssh-exit:guess:0\n';
    expect(feed([`${READY_MARKER}\n${fake}`, 'warmpool-ssh-exit:', 'ab'])).toEqual({
      text: `${fake}warmpool-ssh-exit:ab`,
      status: null,
      exits: 0,
    });
  });
});
