import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  validateSync,
} from 'class-validator';

const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
const toBool = ({ value }: { value: unknown }): unknown =>
  value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value;

/**
 * The service's environment, validated once at boot. Messages name the variable and the
 * rule, never the value (a DATABASE_URL or a token must not end up in a log).
 */
export class Env {
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'PORT must be an integer between 1 and 65535' })
  @Min(1, { message: 'PORT must be an integer between 1 and 65535' })
  @Max(65535, { message: 'PORT must be an integer between 1 and 65535' })
  PORT = 8080;

  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, {
    message: 'DATABASE_URL must be a postgres:// or postgresql:// URL',
  })
  DATABASE_URL?: string;

  @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
  REDIS_URL?: string;

  @IsOptional()
  // Printable characters except the comma, which separates tokens.
  @Matches(/^[\x21-\x2b\x2d-\x7e]{16,}(,[\x21-\x2b\x2d-\x7e]{16,})*$/, {
    message:
      'WARMPOOL_ADMIN_TOKEN must be one or more comma-separated tokens of at least 16 printable characters',
  })
  WARMPOOL_ADMIN_TOKEN?: string;

  @IsOptional()
  @IsString({ message: 'WARMPOOL_DATA_DIR must be a path' })
  WARMPOOL_DATA_DIR = './.warmpool';

  @IsOptional()
  @IsString({ message: 'WARMPOOL_CONFIG must be a path' })
  WARMPOOL_CONFIG = 'config/warmpool.yaml';

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'WARMPOOL_RECONCILE_INTERVAL_MS must be an integer between 50 and 3600000' })
  @Min(50, { message: 'WARMPOOL_RECONCILE_INTERVAL_MS must be an integer between 50 and 3600000' })
  @Max(3_600_000, {
    message: 'WARMPOOL_RECONCILE_INTERVAL_MS must be an integer between 50 and 3600000',
  })
  WARMPOOL_RECONCILE_INTERVAL_MS = 1000;

  /** Tests turn the timer off and drive passes explicitly. */
  @IsOptional()
  @Transform(toBool)
  @IsBoolean({ message: 'WARMPOOL_RECONCILER_ENABLED must be true or false' })
  WARMPOOL_RECONCILER_ENABLED = true;

  @IsOptional()
  @Transform(toBool)
  @IsBoolean({ message: 'WARMPOOL_MIGRATIONS_RUN must be true or false' })
  WARMPOOL_MIGRATIONS_RUN = true;

  /** Containers stuck in provisioning/recycling/retiring longer than this are failed. */
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'WARMPOOL_STUCK_TIMEOUT_SECONDS must be an integer between 5 and 86400' })
  @Min(5, { message: 'WARMPOOL_STUCK_TIMEOUT_SECONDS must be an integer between 5 and 86400' })
  @Max(86400, { message: 'WARMPOOL_STUCK_TIMEOUT_SECONDS must be an integer between 5 and 86400' })
  WARMPOOL_STUCK_TIMEOUT_SECONDS = 600;

  /** How often the reconciler compares what hosts really hold with the database. */
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'WARMPOOL_ORPHAN_SCAN_INTERVAL_MS must be an integer between 0 and 3600000' })
  @Min(0, { message: 'WARMPOOL_ORPHAN_SCAN_INTERVAL_MS must be an integer between 0 and 3600000' })
  @Max(3_600_000, {
    message: 'WARMPOOL_ORPHAN_SCAN_INTERVAL_MS must be an integer between 0 and 3600000',
  })
  WARMPOOL_ORPHAN_SCAN_INTERVAL_MS = 10_000;

  /** How often a waiting lease request re-reads its row when no wake-up arrives. */
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'WARMPOOL_WAIT_POLL_MS must be an integer between 10 and 10000' })
  @Min(10, { message: 'WARMPOOL_WAIT_POLL_MS must be an integer between 10 and 10000' })
  @Max(10000, { message: 'WARMPOOL_WAIT_POLL_MS must be an integer between 10 and 10000' })
  WARMPOOL_WAIT_POLL_MS = 1000;

  @IsOptional()
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    message: 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
  })
  LOG_LEVEL = 'info';
}

export class EnvValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid environment:\n  - ${problems.join('\n  - ')}`);
    this.name = 'EnvValidationError';
  }
}

/** Parse and validate; empty strings count as unset, as shells make it easy to export them. */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const raw: Record<string, string> = {};
  for (const key of Object.keys(new Env()).concat([
    'DATABASE_URL',
    'REDIS_URL',
    'WARMPOOL_ADMIN_TOKEN',
  ])) {
    const value = source[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const env = plainToInstance(Env, raw);
  const errors = validateSync(env, { skipMissingProperties: false });
  if (errors.length > 0) {
    throw new EnvValidationError(errors.flatMap((e) => Object.values(e.constraints ?? {})));
  }
  return env;
}
