import { Logger } from '@nestjs/common';
import { Client } from 'pg';

/** Whether this replica may run the reconciler now. */
export abstract class LeaderElection {
  abstract tryLead(): Promise<boolean>;
  abstract release(): Promise<void>;
}

/** 'warm' in ASCII: the one advisory lock key of warmpool's reconciler. */
const LOCK_KEY = 0x7761726d;

/**
 * A PostgreSQL advisory lock held on a dedicated connection: if this process dies or its
 * connection drops, PostgreSQL frees the lock and another replica takes over within a
 * pass or two. Leadership is re-checked every pass, so a replica that loses it stops.
 */
export class PgAdvisoryLeader extends LeaderElection {
  private readonly logger = new Logger('leader');
  private client: Client | null = null;
  private holding = false;

  constructor(private readonly url: string) {
    super();
  }

  async tryLead(): Promise<boolean> {
    try {
      if (!this.client) {
        const client = new Client({
          connectionString: this.url,
          connectionTimeoutMillis: 3000,
          application_name: 'warmpool-leader',
        });
        client.on('error', (err) => {
          this.logger.warn(`leader connection lost: ${err.message}`);
          this.drop();
        });
        await client.connect();
        this.client = client;
      }
      if (this.holding) {
        // The lock lives as long as this session: proving the session alive proves the lock.
        await this.client.query('SELECT 1');
        return true;
      }
      const result = await this.client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock($1) AS locked',
        [LOCK_KEY],
      );
      this.holding = result.rows[0].locked;
      if (this.holding) this.logger.log('this replica is now the reconciler leader');
      return this.holding;
    } catch (err) {
      this.logger.warn(`leadership check failed: ${(err as Error).message}`);
      this.drop();
      return false;
    }
  }

  async release(): Promise<void> {
    const client = this.client;
    this.client = null;
    this.holding = false;
    if (client) await client.end().catch(() => undefined);
  }

  private drop(): void {
    const client = this.client;
    this.client = null;
    this.holding = false;
    void client?.end().catch(() => undefined);
  }
}

/** Embedded PGlite belongs to one process: that process is the leader. */
export class EmbeddedLeader extends LeaderElection {
  async tryLead(): Promise<boolean> {
    return true;
  }

  async release(): Promise<void> {}
}
