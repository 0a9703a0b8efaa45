/**
 * Which real services the tests can use on this machine. The probes run once in
 * global-setup.ts; under CI=true a missing service fails the run there instead of
 * letting its tests be skipped.
 */
export type Service = 'postgres' | 'redis' | 'lxc' | 'sshd';

const ENV_KEY: Record<Service, string> = {
  postgres: 'WARMPOOL_TEST_POSTGRES',
  redis: 'WARMPOOL_TEST_REDIS',
  lxc: 'WARMPOOL_TEST_LXC',
  sshd: 'WARMPOOL_TEST_SSHD',
};

export const TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function serviceStatus(service: Service): { available: boolean; reason: string } {
  const value = process.env[ENV_KEY[service]] ?? 'unprobed';
  return value === 'ok' ? { available: true, reason: '' } : { available: false, reason: value };
}

export function recordServiceStatus(service: Service, status: 'ok' | string): void {
  process.env[ENV_KEY[service]] = status;
}

/**
 * describe() when every service is there; otherwise the block is reported as skipped
 * and the reason is printed (global-setup has already failed the run if CI=true).
 */
export function describeWith(services: Service[], title: string, body: () => void): void {
  const missing = services.map((s) => ({ s, ...serviceStatus(s) })).filter((x) => !x.available);
  if (missing.length === 0) {
    describe(title, body);
    return;
  }
  const reasons = missing.map((m) => `${m.s}: ${m.reason}`).join('; ');
  console.warn(`SKIPPED "${title}" — needs ${reasons}`);
  const skipped = describe.skip;
  skipped(`${title} (skipped: ${reasons})`, body);
}
