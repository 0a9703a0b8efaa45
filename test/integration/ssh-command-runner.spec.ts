import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandStartError } from '../../src/drivers/command-runner';
import { SshCommandRunner, SshOptions } from '../../src/drivers/ssh-command-runner';
import { describeWith } from '../support/services';
import { startSshd, TestSshd } from '../support/sshd';
import { HOSTILE_WORDS } from '../support/hostile-words';

/** The sshd runs on this machine, so the remote processes can be inspected here. */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function waitUntilDead(pids: number[], ms = 2000): Promise<number[]> {
  const deadline = Date.now() + ms;
  let alive = pids.filter(isAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    alive = pids.filter(isAlive);
  }
  return alive;
}

describeWith(['sshd'], 'SshCommandRunner against a real sshd', () => {
  let sshd: TestSshd;
  let runner: SshCommandRunner;
  let dir: string;
  const leftovers: number[] = [];

  const runnerWith = (options: Partial<SshOptions>, port = sshd.port): SshCommandRunner =>
    new SshCommandRunner(
      { user: sshd.user, host: sshd.host, port },
      {
        sshKey: sshd.clientKey,
        knownHosts: sshd.knownHosts,
        strictHostKeyChecking: 'yes',
        ...options,
      },
    );

  beforeAll(async () => {
    sshd = await startSshd();
    runner = runnerWith({});
  });

  afterAll(async () => {
    await sshd?.stop();
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'warmpool-ssh-runner-'));
  });

  afterEach(() => {
    for (const pid of leftovers.splice(0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes every argv word to the remote program literally', async () => {
    rmSync('/tmp/warmpool-pwned', { force: true });
    const result = await runner.run(['printf', '%s\\n', ...HOSTILE_WORDS]);
    expect(result).toMatchObject({ exitCode: 0, stderr: '', timedOut: false });
    expect(result.stdout).toBe(HOSTILE_WORDS.map((w) => `${w}\n`).join(''));
    expect(existsSync('/tmp/warmpool-pwned')).toBe(false);
  });

  it('reports the remote exit code, 255 included, and keeps stderr clean', async () => {
    const failed = await runner.run(['sh', '-c', 'echo oops >&2; exit 7']);
    expect(failed).toMatchObject({ exitCode: 7, signal: null, stdout: '', stderr: 'oops\n' });
    // 255 is also what ssh uses for its own failures; here it must be the command's.
    const own255 = await runner.run(['sh', '-c', 'exit 255']);
    expect(own255).toMatchObject({ exitCode: 255, stderr: '' });
    const missing = await runner.run(['/nonexistent/warmpool-binary']);
    expect(missing.exitCode).toBe(127);
  });

  it('cannot be fooled by a command printing a fake exit line', async () => {
    const result = await runner.run(['sh', '-c', 'echo warmpool-ssh-exit:00:0 >&2; exit 3']);
    expect(result).toMatchObject({ exitCode: 3, stderr: 'warmpool-ssh-exit:00:0\n' });
  });

  it('forwards stdin exactly, and gives EOF when there is none', async () => {
    const input = Buffer.concat([
      Buffer.from('line\nünïcødé\n'),
      Buffer.alloc(200_000, 'x'),
      Buffer.from([0, 255]),
    ]);
    const result = await runner.run(['sha256sum'], { stdin: input });
    const expected = createHash('sha256').update(input).digest('hex');
    expect(result.stdout.split(' ')[0]).toBe(expected);
    const none = await runner.run(['cat'], { timeoutMs: 10_000 });
    expect(none).toMatchObject({ exitCode: 0, stdout: '', timedOut: false });
  });

  it('passes env with hostile values, and none of the service secrets', async () => {
    const before = process.env.WARMPOOL_ADMIN_TOKEN;
    process.env.WARMPOOL_ADMIN_TOKEN = 'admin-secret-123';
    try {
      const result = await runner.run(['env'], {
        env: { BUILD_ID: '42', TRICKY: "a'b $(touch /tmp/warmpool-pwned) `x`\nnext" },
      });
      expect(result.stdout).toContain('BUILD_ID=42\n');
      expect(result.stdout).toContain("TRICKY=a'b $(touch /tmp/warmpool-pwned) `x`\nnext\n");
      expect(result.stdout).not.toContain('admin-secret-123');
      expect(existsSync('/tmp/warmpool-pwned')).toBe(false);
    } finally {
      if (before === undefined) delete process.env.WARMPOOL_ADMIN_TOKEN;
      else process.env.WARMPOOL_ADMIN_TOKEN = before;
    }
    await expect(runner.run(['env'], { env: { 'A;touch x': '1' } })).rejects.toThrow(
      CommandStartError,
    );
  });

  it('on timeout kills the remote command and its background children, not just ssh', async () => {
    const pidFile = join(dir, 'pids');
    const started = Date.now();
    const result = await runner.run(
      ['sh', '-c', 'sleep 100 & echo $! >"$1"; echo $$ >>"$1"; wait', 'sh', pidFile],
      { timeoutMs: 1500 },
    );
    expect(result).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGKILL', stderr: '' });
    const pids = readFileSync(pidFile, 'utf8').trim().split('\n').map(Number);
    expect(pids).toHaveLength(2);
    // Dead when run() returns (the remote deadline backstop would only strike seconds later)…
    expect(await waitUntilDead(pids, 300)).toEqual([]);
    // …and well before the 5 s fallback: the remote side confirmed by ending the session.
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('on a timeout before the remote side started, drops the connection and leaves nothing', async () => {
    const pidFile = join(dir, 'pid');
    const result = await runner.run(['sh', '-c', 'echo $$ >"$1"; exec sleep 100', 'sh', pidFile], {
      timeoutMs: 30,
    });
    expect(result).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGKILL' });
    // sshd may still start the session; its wrapper then finds the connection gone.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    if (existsSync(pidFile)) {
      expect(await waitUntilDead([Number(readFileSync(pidFile, 'utf8'))])).toEqual([]);
    }
  });

  it('ends the run when the command exits, though a background child holds its output', async () => {
    const started = Date.now();
    const result = await runner.run(['sh', '-c', 'sleep 30 & echo $!; echo done'], {
      timeoutMs: 20_000,
    });
    const [pid, done] = result.stdout.trim().split('\n');
    leftovers.push(Number(pid));
    expect(done).toBe('done');
    expect(result).toMatchObject({ exitCode: 0, timedOut: false });
    expect(Date.now() - started).toBeLessThan(5000);
    // No timeout, so what the command started in the background is not killed.
    expect(isAlive(Number(pid))).toBe(true);
  });

  it('streams output while the remote command is still running', async () => {
    const flag = join(dir, 'flag');
    const seen: string[] = [];
    const result = await runner.run(
      [
        'sh',
        '-c',
        'echo ready; while [ ! -e "$1" ]; do sleep 0.02; done; echo bye >&2',
        'sh',
        flag,
      ],
      {
        timeoutMs: 15_000,
        onStdout: (chunk) => {
          seen.push(chunk);
          if (chunk.includes('ready')) writeFileSync(flag, '');
        },
        onStderr: (chunk) => seen.push(`err:${chunk}`),
      },
    );
    expect(result.timedOut).toBe(false);
    expect(seen).toEqual(['ready\n', 'err:bye\n']);
  });

  it('caps output at exactly maxOutputBytes', async () => {
    const result = await runner.run(['sh', '-c', 'yes abc | head -c 100000'], {
      maxOutputBytes: 1000,
    });
    expect(result.truncated).toBe(true);
    expect(result.stdout).toBe('abc\n'.repeat(250));
  });

  it('rejects with CommandStartError for a refused connection', async () => {
    // sshd is stopped last, so a port it does not listen on: its own, plus one, is unlikely to be used.
    const closed = runnerWith({}, sshd.port === 65535 ? 1 : sshd.port + 1);
    await expect(closed.run(['true'])).rejects.toThrow(/Connection refused/);
  });

  it('rejects with CommandStartError for a key the server does not accept', async () => {
    const stranger = runnerWith({ sshKey: sshd.strangerKey });
    const error = await stranger.run(['true']).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(CommandStartError);
    expect((error as Error).message).toMatch(/Permission denied \(publickey\)/);
  });

  it('refuses a host whose key does not match, or is unknown under strict checking', async () => {
    const spoofed = runnerWith({ knownHosts: sshd.wrongKnownHosts });
    await expect(spoofed.run(['true'])).rejects.toThrow(/Host key verification failed/);
    const emptyKnownHosts = join(dir, 'known_hosts');
    writeFileSync(emptyKnownHosts, '');
    const unknown = runnerWith({ knownHosts: emptyKnownHosts });
    await expect(unknown.run(['true'])).rejects.toThrow(CommandStartError);
  });

  it('with accept-new trusts the first key it sees and pins it', async () => {
    const knownHosts = join(dir, 'known_hosts');
    writeFileSync(knownHosts, '');
    const tofu = runnerWith({ knownHosts, strictHostKeyChecking: 'accept-new' });
    expect((await tofu.run(['echo', 'hi'])).stdout).toBe('hi\n');
    expect(readFileSync(knownHosts, 'utf8')).toContain(`[127.0.0.1]:${sshd.port} ssh-ed25519 `);
  });

  it('rejects with CommandStartError when there is no ssh client', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await expect(runner.run(['true'])).rejects.toThrow(/cannot run ssh: ENOENT/);
    } finally {
      process.env.PATH = path;
    }
  });
});
