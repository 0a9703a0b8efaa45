import { Env } from './env';

/** Typed, read-only access to the validated environment. */
export class AppConfig {
  constructor(private readonly env: Env) {}

  get<K extends keyof Env>(key: K): Env[K] {
    return this.env[key];
  }

  adminTokens(): string[] {
    return (this.env.WARMPOOL_ADMIN_TOKEN ?? '')
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t.length > 0);
  }
}
