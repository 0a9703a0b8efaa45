import { Controller, Get, Header, Res } from '@nestjs/common';
import { ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { Public } from '../common/auth/auth.decorators';
import { queryRows } from '../database/sql';
import { MetricsService } from './metrics.service';

@ApiTags('operations')
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    private readonly db: DataSource,
  ) {}

  @Get()
  @Header('cache-control', 'no-store')
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text format' })
  async scrape(@Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    await this.refreshFromDatabase();
    void reply.header('content-type', this.metrics.registry.contentType);
    return this.metrics.registry.metrics();
  }

  /** Database-backed gauges: the same numbers whichever replica is scraped. */
  private async refreshFromDatabase(): Promise<void> {
    const rows = await queryRows<{ pool: string; state: string; n: number }>(
      this.db,
      `SELECT p.name AS pool, c.state, count(*)::int AS n
         FROM containers c JOIN pools p ON p.id = c.pool_id
        WHERE c.state <> 'destroyed'
        GROUP BY p.name, c.state`,
    );
    const targets = await queryRows<{ pool: string; target: number }>(
      this.db,
      `SELECT name AS pool, last_target AS target FROM pools WHERE deleted_at IS NULL`,
    );
    this.metrics.containers.reset();
    for (const pool of targets) {
      for (const state of ['provisioning', 'ready', 'leased', 'recycling', 'retiring', 'failed']) {
        this.metrics.containers.set({ pool: pool.pool, state }, 0);
      }
    }
    for (const row of rows)
      this.metrics.containers.set({ pool: row.pool, state: row.state }, row.n);
    this.metrics.poolTarget.reset();
    for (const t of targets) this.metrics.poolTarget.set({ pool: t.pool }, t.target);
  }
}
