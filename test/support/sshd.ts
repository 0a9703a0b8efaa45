import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A throwaway sshd on 127.0.0.1 that accepts one freshly generated key for the current user. */
export interface TestSshd {
  host: string;
  port: number;
  user: string;
  dir: string;
  /** Private key the server accepts. */
  clientKey: string;
  /** A key the server has never seen. */
  strangerKey: string;
  /** known_hosts pinning this server's real host key. */
  knownHosts: string;
  /** known_hosts pinning some other key for the same address. */
  wrongKnownHosts: string;
  stop(): Promise<void>;
}

const SSHD = '/usr/sbin/sshd';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

function keygen(path: string): string {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'warmpool-test', '-f', path]);
  return readFileSync(`${path}.pub`, 'utf8').trim();
}

/** Resolves once the server sends its SSH banner, i.e. it is accepting connections. */
async function waitForBanner(port: number, sshd: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (sshd.exitCode !== null) throw new Error(`sshd exited: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      socket.setTimeout(1000);
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString().startsWith('SSH-2.0-'));
      });
      socket.once('error', () => resolve(false));
      socket.once('timeout', () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`sshd did not come up on port ${port}: ${log()}`);
}

export async function startSshd(): Promise<TestSshd> {
  // sshd refuses to start without its privilege-separation directory.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = mkdtempSync(join(tmpdir(), 'warmpool-sshd-'));
  const hostKey = join(dir, 'host_ed25519');
  const hostPub = keygen(hostKey);
  const clientKey = join(dir, 'client_ed25519');
  writeFileSync(join(dir, 'authorized_keys'), `${keygen(clientKey)}\n`, { mode: 0o600 });
  const strangerKey = join(dir, 'stranger_ed25519');
  keygen(strangerKey);
  const otherPub = keygen(join(dir, 'other_host_ed25519'));

  const port = await freePort();
  const [keyType, keyData] = hostPub.split(' ');
  const [otherType, otherData] = otherPub.split(' ');
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `[127.0.0.1]:${port} ${keyType} ${keyData}\n`);
  const wrongKnownHosts = join(dir, 'wrong_known_hosts');
  writeFileSync(wrongKnownHosts, `[127.0.0.1]:${port} ${otherType} ${otherData}\n`);

  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'StrictModes no',
      'UsePAM no',
      'PrintMotd no',
      'MaxStartups 50',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );

  let log = '';
  // -D: stay in the foreground so the test owns the process; -e: log to our pipe.
  const sshd = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  sshd.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  sshd.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  try {
    await waitForBanner(port, sshd, () => log);
  } catch (err) {
    sshd.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  const user = execFileSync('id', ['-un']).toString().trim();
  return {
    host: '127.0.0.1',
    port,
    user,
    dir,
    clientKey,
    strangerKey,
    knownHosts,
    wrongKnownHosts,
    async stop() {
      if (sshd.exitCode === null && sshd.signalCode === null) {
        const exited = new Promise((resolve) => sshd.once('exit', resolve));
        sshd.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
