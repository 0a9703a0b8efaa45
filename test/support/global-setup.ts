import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Client } from 'pg';
import Redis from 'ioredis';
import { recordServiceStatus, Service, TEST_DATABASE_URL, TEST_REDIS_URL } from './services';

async function probePostgres(): Promise<string> {
  const client = new Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return 'ok';
  } catch (err) {
    return `PostgreSQL not reachable at TEST_DATABASE_URL (${(err as Error).message})`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function probeRedis(): Promise<string> {
  const redis = new Redis(TEST_REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  try {
    await redis.connect();
    await redis.ping();
    return 'ok';
  } catch (err) {
    return `Redis not reachable at TEST_REDIS_URL (${(err as Error).message})`;
  } finally {
    redis.disconnect();
  }
}

function probeLxc(): string {
  if (process.getuid?.() !== 0) return 'LXC tests need root';
  try {
    execFileSync('lxc-create', ['--version'], { stdio: 'pipe' });
    return 'ok';
  } catch {
    return 'lxc-create not found (apt-get install lxc)';
  }
}

function probeSshd(): string {
  if (!existsSync('/usr/sbin/sshd'))
    return '/usr/sbin/sshd not found (apt-get install openssh-server)';
  try {
    execFileSync('ssh-keygen', ['-?'], { stdio: 'pipe' });
  } catch (err) {
    // ssh-keygen -? exits 1 after printing usage; only a missing binary is a failure.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'ssh-keygen not found';
  }
  return 'ok';
}

export default async function globalSetup(): Promise<void> {
  const results: Record<Service, string> = {
    postgres: await probePostgres(),
    redis: await probeRedis(),
    lxc: probeLxc(),
    sshd: probeSshd(),
  };
  const missing: string[] = [];
  for (const [service, status] of Object.entries(results) as [Service, string][]) {
    recordServiceStatus(service, status);
    if (status !== 'ok') missing.push(`${service}: ${status}`);
  }
  if (missing.length > 0) {
    if (process.env.CI === 'true') {
      throw new Error(`CI=true and tests would be skipped for lack of: ${missing.join('; ')}`);
    }
    console.warn(`\nSome integration tests will be skipped: ${missing.join('; ')}\n`);
  }
}
