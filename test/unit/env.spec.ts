import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminTokenFile, ensureAdminToken } from '../../src/config/admin-token';
import { Env, EnvValidationError, loadEnv } from '../../src/config/env';

// Looks like a credential on purpose: no message may ever contain it.
const SECRET = 'hunter2-S3CR3T-do-not-log';

function loadError(source: NodeJS.ProcessEnv): EnvValidationError {
  try {
    loadEnv(source);
  } catch (err) {
    expect(err).toBeInstanceOf(EnvValidationError);
    return err as EnvValidationError;
  }
  throw new Error('expected loadEnv to throw');
}

describe('loadEnv', () => {
  it('applies every default to an empty environment', () => {
    const env = loadEnv({});
    expect(env).toBeInstanceOf(Env);
    expect(env).toMatchObject({
      PORT: 8080,
      WARMPOOL_DATA_DIR: './.warmpool',
      WARMPOOL_CONFIG: 'config/warmpool.yaml',
      WARMPOOL_RECONCILE_INTERVAL_MS: 1000,
      WARMPOOL_RECONCILER_ENABLED: true,
      WARMPOOL_MIGRATIONS_RUN: true,
      WARMPOOL_STUCK_TIMEOUT_SECONDS: 600,
      WARMPOOL_WAIT_POLL_MS: 1000,
      LOG_LEVEL: 'info',
    });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.REDIS_URL).toBeUndefined();
    expect(env.WARMPOOL_ADMIN_TOKEN).toBeUndefined();
  });

  it('treats empty strings as unset', () => {
    const env = loadEnv({
      PORT: '',
      DATABASE_URL: '',
      REDIS_URL: '',
      WARMPOOL_ADMIN_TOKEN: '',
      WARMPOOL_DATA_DIR: '',
      WARMPOOL_RECONCILER_ENABLED: '',
      LOG_LEVEL: '',
    });
    expect(env.PORT).toBe(8080);
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.REDIS_URL).toBeUndefined();
    expect(env.WARMPOOL_ADMIN_TOKEN).toBeUndefined();
    expect(env.WARMPOOL_DATA_DIR).toBe('./.warmpool');
    expect(env.WARMPOOL_RECONCILER_ENABLED).toBe(true);
    expect(env.LOG_LEVEL).toBe('info');
  });

  it('ignores variables it does not know', () => {
    const env = loadEnv({ HOME: '/root', SOMETHING_ELSE: SECRET });
    expect(JSON.stringify(env)).not.toContain(SECRET);
  });

  it.each<[string, string, unknown]>([
    ['PORT', '3000', 3000],
    ['PORT', ' 3000 ', 3000],
    ['PORT', '1', 1],
    ['PORT', '65535', 65535],
    ['DATABASE_URL', 'postgres://u:p@db:5432/warmpool', 'postgres://u:p@db:5432/warmpool'],
    ['DATABASE_URL', 'postgresql://db/warmpool', 'postgresql://db/warmpool'],
    ['REDIS_URL', 'redis://cache:6379/0', 'redis://cache:6379/0'],
    ['REDIS_URL', 'rediss://cache:6380', 'rediss://cache:6380'],
    ['WARMPOOL_ADMIN_TOKEN', 'a'.repeat(16), 'a'.repeat(16)],
    [
      'WARMPOOL_ADMIN_TOKEN',
      `${'a'.repeat(16)},${'b'.repeat(20)}`,
      `${'a'.repeat(16)},${'b'.repeat(20)}`,
    ],
    ['WARMPOOL_DATA_DIR', 'memory://', 'memory://'],
    ['WARMPOOL_CONFIG', '/etc/warmpool.yaml', '/etc/warmpool.yaml'],
    ['WARMPOOL_RECONCILE_INTERVAL_MS', '50', 50],
    ['WARMPOOL_RECONCILE_INTERVAL_MS', '3600000', 3_600_000],
    ['WARMPOOL_RECONCILER_ENABLED', 'false', false],
    ['WARMPOOL_RECONCILER_ENABLED', '0', false],
    ['WARMPOOL_RECONCILER_ENABLED', '1', true],
    ['WARMPOOL_MIGRATIONS_RUN', 'false', false],
    ['WARMPOOL_STUCK_TIMEOUT_SECONDS', '5', 5],
    ['WARMPOOL_STUCK_TIMEOUT_SECONDS', '86400', 86_400],
    ['WARMPOOL_WAIT_POLL_MS', '10', 10],
    ['WARMPOOL_WAIT_POLL_MS', '10000', 10_000],
    ['LOG_LEVEL', 'debug', 'debug'],
    ['LOG_LEVEL', 'silent', 'silent'],
  ])('accepts %s=%j', (name, value, parsed) => {
    expect(loadEnv({ [name]: value })[name as keyof Env]).toEqual(parsed);
  });

  it.each<[string, string]>([
    ['PORT', SECRET],
    ['PORT', '0'],
    ['PORT', '65536'],
    ['PORT', '80.5'],
    ['PORT', `80${SECRET}`],
    ['DATABASE_URL', `mysql://admin:${SECRET}@db/warmpool`],
    ['DATABASE_URL', `postgres://admin:${SECRET} @db/warmpool`],
    ['REDIS_URL', `http://:${SECRET}@cache:6379`],
    ['WARMPOOL_ADMIN_TOKEN', 'short-SECRET'],
    ['WARMPOOL_ADMIN_TOKEN', `${SECRET} with-space`],
    ['WARMPOOL_RECONCILE_INTERVAL_MS', '49'],
    ['WARMPOOL_RECONCILE_INTERVAL_MS', '3600001'],
    ['WARMPOOL_RECONCILE_INTERVAL_MS', SECRET],
    ['WARMPOOL_RECONCILER_ENABLED', SECRET],
    ['WARMPOOL_RECONCILER_ENABLED', 'yes'],
    ['WARMPOOL_MIGRATIONS_RUN', SECRET],
    ['WARMPOOL_STUCK_TIMEOUT_SECONDS', '4'],
    ['WARMPOOL_STUCK_TIMEOUT_SECONDS', SECRET],
    ['WARMPOOL_WAIT_POLL_MS', '9'],
    ['WARMPOOL_WAIT_POLL_MS', '10001'],
    ['LOG_LEVEL', SECRET],
    ['LOG_LEVEL', 'verbose'],
  ])('rejects %s=%j naming the variable, never the value', (name, value) => {
    const err = loadError({ [name]: value });
    expect(err.name).toBe('EnvValidationError');
    expect(err.problems.length).toBeGreaterThan(0);
    // Short values ("4") can occur in the rule itself ("between 5 and 86400").
    const leaks = (text: string): boolean => value.length >= 6 && text.includes(value);
    for (const problem of err.problems) {
      expect(problem).toContain(name);
      expect(leaks(problem)).toBe(false);
    }
    expect(err.message).toContain(name);
    expect(leaks(err.message)).toBe(false);
    expect(err.message).not.toContain(SECRET);
    expect(JSON.stringify(err.problems)).not.toContain(SECRET);
  });

  // The rule is "tokens of at least 16 printable characters" each; ',' is printable too,
  // so a pattern over the whole string lets a short token ride behind a long one.
  it.each([[`${'a'.repeat(16)},short`], [','.repeat(20)]])(
    'rejects WARMPOOL_ADMIN_TOKEN=%j: every comma-separated token needs 16 characters',
    (value) => {
      const err = loadError({ WARMPOOL_ADMIN_TOKEN: value });
      expect(err.problems.join('\n')).toContain('WARMPOOL_ADMIN_TOKEN');
      expect(err.message).not.toContain(value);
    },
  );

  it('reports every bad variable at once', () => {
    const err = loadError({ PORT: 'x', LOG_LEVEL: 'loud', DATABASE_URL: 'sqlite://x' });
    const text = err.problems.join('\n');
    expect(text).toContain('PORT');
    expect(text).toContain('LOG_LEVEL');
    expect(text).toContain('DATABASE_URL');
  });
});

describe('ensureAdminToken', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'warmpool-admin-token-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('generates a token into DATA_DIR/admin-token with mode 0600, then reuses it', () => {
    const dataDir = join(dir, 'nested', 'data');
    const first = loadEnv({ WARMPOOL_DATA_DIR: dataDir });
    expect(ensureAdminToken(first)).toBe('generated');
    const token = first.WARMPOOL_ADMIN_TOKEN;
    expect(token).toMatch(/^wpa_[A-Za-z0-9_-]{32}$/);

    const file = adminTokenFile(first);
    expect(file).toBe(join(dataDir, 'admin-token'));
    expect(readFileSync(file, 'utf8')).toBe(`${token}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const second = loadEnv({ WARMPOOL_DATA_DIR: dataDir });
    expect(ensureAdminToken(second)).toBe('file');
    expect(second.WARMPOOL_ADMIN_TOKEN).toBe(token);
  });

  it('generates a token the env rules accept', () => {
    const env = loadEnv({ WARMPOOL_DATA_DIR: dir });
    ensureAdminToken(env);
    expect(loadEnv({ WARMPOOL_ADMIN_TOKEN: env.WARMPOOL_ADMIN_TOKEN }).WARMPOOL_ADMIN_TOKEN).toBe(
      env.WARMPOOL_ADMIN_TOKEN,
    );
  });

  it('reads a token written by hand, trimmed', () => {
    writeFileSync(join(dir, 'admin-token'), '  my-own-admin-token-123456  \n');
    const env = loadEnv({ WARMPOOL_DATA_DIR: dir });
    expect(ensureAdminToken(env)).toBe('file');
    expect(env.WARMPOOL_ADMIN_TOKEN).toBe('my-own-admin-token-123456');
  });

  it('lets the environment win and writes nothing', () => {
    const env = loadEnv({ WARMPOOL_DATA_DIR: dir, WARMPOOL_ADMIN_TOKEN: 'x'.repeat(24) });
    expect(ensureAdminToken(env)).toBe('env');
    expect(env.WARMPOOL_ADMIN_TOKEN).toBe('x'.repeat(24));
    expect(existsSync(join(dir, 'admin-token'))).toBe(false);
  });

  it('lets the environment win over an existing file', () => {
    writeFileSync(join(dir, 'admin-token'), 'from-the-file-0123456789\n');
    const env = loadEnv({ WARMPOOL_DATA_DIR: dir, WARMPOOL_ADMIN_TOKEN: 'y'.repeat(24) });
    expect(ensureAdminToken(env)).toBe('env');
    expect(env.WARMPOOL_ADMIN_TOKEN).toBe('y'.repeat(24));
  });

  it('keeps a memory:// token in memory only, new on every start', () => {
    const a = loadEnv({ WARMPOOL_DATA_DIR: 'memory://' });
    const b = loadEnv({ WARMPOOL_DATA_DIR: 'memory://' });
    expect(ensureAdminToken(a)).toBe('memory');
    expect(ensureAdminToken(b)).toBe('memory');
    expect(a.WARMPOOL_ADMIN_TOKEN).toMatch(/^wpa_/);
    expect(b.WARMPOOL_ADMIN_TOKEN).not.toBe(a.WARMPOOL_ADMIN_TOKEN);
    expect(existsSync('memory:')).toBe(false);
  });

  it('never returns the token itself', () => {
    const env = loadEnv({ WARMPOOL_DATA_DIR: dir });
    const source = ensureAdminToken(env);
    expect(source).not.toContain(env.WARMPOOL_ADMIN_TOKEN!);
  });
});
