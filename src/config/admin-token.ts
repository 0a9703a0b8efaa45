import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { newAdminToken } from '../common/auth/tokens';
import { Env } from './env';

/**
 * A first run without WARMPOOL_ADMIN_TOKEN still needs an admin: generate one, keep it in
 * WARMPOOL_DATA_DIR/admin-token (mode 0600, reused on restart) and say where it is.
 * Returns where the token came from, never the token itself.
 */
export function ensureAdminToken(env: Env): 'env' | 'file' | 'generated' | 'memory' {
  if (env.WARMPOOL_ADMIN_TOKEN) return 'env';
  const token = newAdminToken();
  if (env.WARMPOOL_DATA_DIR === 'memory://') {
    env.WARMPOOL_ADMIN_TOKEN = token;
    return 'memory';
  }
  const file = adminTokenFile(env);
  if (existsSync(file)) {
    env.WARMPOOL_ADMIN_TOKEN = readFileSync(file, 'utf8').trim();
    return 'file';
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  env.WARMPOOL_ADMIN_TOKEN = token;
  return 'generated';
}

export function adminTokenFile(env: Env): string {
  return resolve(env.WARMPOOL_DATA_DIR, 'admin-token');
}
