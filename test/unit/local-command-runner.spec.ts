import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandStartError } from '../../src/drivers/command-runner';
import { BoundedOutput, LocalCommandRunner } from '../../src/drivers/local-command-runner';
import { HOSTILE_WORDS } from '../support/hostile-words';

/** Alive = exists and is not a zombie waiting to be reaped (this sandbox's pid 1 may never reap). */
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

function readPids(file: string): number[] {
  return readFileSync(file, 'utf8').trim().split('\n').map(Number);
}

describe('LocalCommandRunner', () => {
  const runner = new LocalCommandRunner();
  let dir: string;
  const leftovers: number[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'warmpool-local-runner-'));
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

  it('passes every argv word to the program literally, with no shell in between', async () => {
    const result = await runner.run(['printf', '%s\\n', ...HOSTILE_WORDS]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(HOSTILE_WORDS.map((w) => `${w}\n`).join(''));
    expect(existsSync('/tmp/warmpool-pwned')).toBe(false);
  });

  it('reports exit codes and deaths by signal', async () => {
    const failed = await runner.run(['sh', '-c', 'echo oops >&2; exit 7']);
    expect(failed).toMatchObject({ exitCode: 7, signal: null, stderr: 'oops\n', timedOut: false });
    const killed = await runner.run(['sh', '-c', 'kill -TERM $$']);
    expect(killed).toMatchObject({ exitCode: null, signal: 'SIGTERM', timedOut: false });
  });

  it('feeds stdin and closes it, also when none is given', async () => {
    const input = 'first line\nsecond ünïcødé line without newline';
    expect((await runner.run(['cat'], { stdin: input })).stdout).toBe(input);
    const binary = Buffer.from([0, 1, 2, 255, 10, 0]);
    expect((await runner.run(['wc', '-c'], { stdin: binary })).stdout.trim()).toBe('6');
    const empty = await runner.run(['cat'], { timeoutMs: 5000 });
    expect(empty).toMatchObject({ exitCode: 0, stdout: '', timedOut: false });
  });

  it('passes the given env on a minimal base, never the service secrets', async () => {
    const before = process.env.WARMPOOL_ADMIN_TOKEN;
    process.env.WARMPOOL_ADMIN_TOKEN = 'admin-secret-123';
    try {
      const result = await runner.run(['env'], { env: { BUILD_ID: '42', TRICKY: "a'b $(x)" } });
      const vars = result.stdout.split('\n');
      expect(vars).toContain('BUILD_ID=42');
      expect(vars).toContain("TRICKY=a'b $(x)");
      expect(vars).toContain(`PATH=${process.env.PATH}`);
      expect(result.stdout).not.toContain('admin-secret-123');
      expect(result.stdout).not.toContain('WARMPOOL_ADMIN_TOKEN');
    } finally {
      if (before === undefined) delete process.env.WARMPOOL_ADMIN_TOKEN;
      else process.env.WARMPOOL_ADMIN_TOKEN = before;
    }
  });

  it('rejects env names that could smuggle in another variable', async () => {
    await expect(runner.run(['env'], { env: { 'PATH=/evil:X': '1' } })).rejects.toThrow(
      CommandStartError,
    );
    await expect(runner.run(['env'], { env: { '1ABC': '1' } })).rejects.toThrow(
      /invalid environment/,
    );
  });

  it('on timeout kills the whole process group, background children included', async () => {
    const pidFile = join(dir, 'pids');
    const started = Date.now();
    const result = await runner.run(
      ['sh', '-c', 'sleep 100 & echo $! >"$1"; echo $$ >>"$1"; exec sleep 100', 'sh', pidFile],
      { timeoutMs: 500 },
    );
    expect(result).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGKILL' });
    expect(Date.now() - started).toBeLessThan(5000);
    const pids = readPids(pidFile);
    expect(pids).toHaveLength(2);
    expect(await waitUntilDead(pids)).toEqual([]);
  });

  it('ends the run when the program exits, though a background child still holds stdout', async () => {
    const started = Date.now();
    const result = await runner.run(['sh', '-c', 'sleep 30 & echo $!; echo done'], {
      timeoutMs: 20_000,
    });
    const [pid, done] = result.stdout.trim().split('\n');
    leftovers.push(Number(pid));
    expect(done).toBe('done');
    expect(result).toMatchObject({ exitCode: 0, timedOut: false });
    expect(Date.now() - started).toBeLessThan(3000);
    // Not a timeout, so a daemon it started (think lxc-start -d) is left running.
    expect(isAlive(Number(pid))).toBe(true);
  });

  it('keeps output written just before exit', async () => {
    const result = await runner.run(['sh', '-c', 'head -c 300000 /dev/zero | tr "\\0" x']);
    expect(result.stdout).toHaveLength(300000);
  });

  it('caps output at exactly maxOutputBytes and says it was truncated', async () => {
    const result = await runner.run(
      ['sh', '-c', 'yes abc | head -c 100000; yes e | head -c 10 >&2'],
      {
        maxOutputBytes: 1000,
      },
    );
    expect(result.truncated).toBe(true);
    expect(Buffer.byteLength(result.stdout)).toBe(1000);
    expect(result.stdout).toBe('abc\n'.repeat(250));
    expect(result.stderr).toBe('e\n'.repeat(5));
  });

  it('never cuts a UTF-8 character in half at the cap', async () => {
    // "é\n" is 3 bytes, so a cap of 1000 falls after the first byte of an "é".
    const streamed: string[] = [];
    const result = await runner.run(['sh', '-c', 'yes é | head -c 30000'], {
      maxOutputBytes: 1000,
      onStdout: (chunk) => streamed.push(chunk),
    });
    expect(result.truncated).toBe(true);
    expect(result.stdout).toBe('é\n'.repeat(333));
    expect(Buffer.byteLength(result.stdout)).toBe(999);
    expect(result.stdout).not.toContain('\uFFFD');
    expect(streamed.join('')).toBe(result.stdout);
    const onBoundary = await runner.run(['sh', '-c', 'yes é | head -c 30000'], {
      maxOutputBytes: 999,
    });
    expect(Buffer.byteLength(onBoundary.stdout)).toBe(999);
  });

  it('streams chunks while the program is still running', async () => {
    // The program waits for a file that only the stdout callback creates: without live
    // streaming it could never finish and the run would time out.
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
        timeoutMs: 10_000,
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

  it('rejects with CommandStartError when the program cannot be started', async () => {
    await expect(runner.run(['/nonexistent/warmpool-binary'])).rejects.toThrow(CommandStartError);
    await expect(runner.run(['/nonexistent/warmpool-binary'])).rejects.toThrow(/ENOENT/);
    await expect(runner.run([])).rejects.toThrow(CommandStartError);
    await expect(runner.run(['echo', 'nul\0byte'])).rejects.toThrow(CommandStartError);
  });
});

describe('BoundedOutput', () => {
  it('decodes a character split across chunks', () => {
    const out = new BoundedOutput(100);
    const bytes = Buffer.from('€uro');
    out.push(bytes.subarray(0, 1));
    out.push(bytes.subarray(1, 2));
    out.push(bytes.subarray(2));
    expect(out.finish()).toBe('€uro');
    expect(out.truncated).toBe(false);
  });

  it('is truncated only when output goes beyond the cap', () => {
    const exact = new BoundedOutput(4);
    exact.push(Buffer.from('abcd'));
    expect(exact.truncated).toBe(false);
    expect(exact.finish()).toBe('abcd');
    const over = new BoundedOutput(4);
    over.push(Buffer.from('abcd'));
    over.push(Buffer.from('e'));
    expect(over.truncated).toBe(true);
    expect(over.finish()).toBe('abcd');
  });
});
