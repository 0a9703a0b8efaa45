import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { adminTokenFile, ensureAdminToken } from './config/admin-token';
import { EnvValidationError, loadEnv } from './config/env';
import { DeclaredConfigError } from './config/declared-config';
import { createApp } from './app.factory';

async function main(): Promise<void> {
  const env = loadEnv();
  const tokenSource = ensureAdminToken(env);
  const app = await createApp(env);
  await app.listen(env.PORT, '0.0.0.0');
  const logger = new Logger('warmpool');
  logger.log(
    `listening on :${env.PORT} — database: ${env.DATABASE_URL ? 'PostgreSQL' : 'embedded PGlite'}, ` +
      `coordination: ${env.REDIS_URL ? 'Redis' : 'in-process'}; API docs at /docs`,
  );
  if (tokenSource === 'generated' || tokenSource === 'file') {
    logger.log(`admin token (WARMPOOL_ADMIN_TOKEN unset) is in ${adminTokenFile(env)}`);
  }
}

main().catch((err: unknown) => {
  if (err instanceof EnvValidationError || err instanceof DeclaredConfigError) {
    process.stderr.write(`warmpool: ${err.message}\n`);
  } else {
    process.stderr.write(`warmpool: failed to start: ${(err as Error)?.stack ?? String(err)}\n`);
  }
  process.exit(1);
});
