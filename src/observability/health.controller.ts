import { BeforeApplicationShutdown, Controller, Get, Res } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { Public } from '../common/auth/auth.decorators';
import { Coordination, CoordinationStatus } from '../coordination/coordination';
import { RedisCoordination } from '../coordination/redis/redis.coordination';

export interface Readiness {
  status: 'ok' | 'error';
  database: 'up' | 'down';
  redis: CoordinationStatus;
  shuttingDown?: true;
}

@ApiTags('operations')
@Public()
@Controller()
export class HealthController implements BeforeApplicationShutdown {
  private shuttingDown = false;

  constructor(
    private readonly health: HealthCheckService,
    private readonly typeorm: TypeOrmHealthIndicator,
    private readonly db: DataSource,
    private readonly coordination: Coordination,
  ) {}

  beforeApplicationShutdown(): void {
    this.shuttingDown = true;
  }

  @Get('healthz')
  @ApiOkResponse({ description: 'the process lives' })
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** 200 while the database answers; Redis being down only degrades wake-ups to polling. */
  @Get('readyz')
  @ApiOkResponse({ description: '{"status":"ok","database":"up","redis":"up|down|disabled"}' })
  async readyz(@Res({ passthrough: true }) reply: FastifyReply): Promise<Readiness> {
    const database = await this.health
      .check([() => this.typeorm.pingCheck('database', { connection: this.db, timeout: 2000 })])
      .then(
        () => 'up' as const,
        () => 'down' as const,
      );
    const redis =
      this.coordination instanceof RedisCoordination
        ? (await this.coordination.ping())
          ? 'up'
          : 'down'
        : this.coordination.status();
    const ok = database === 'up' && !this.shuttingDown;
    void reply.status(ok ? 200 : 503);
    return {
      status: ok ? 'ok' : 'error',
      database,
      redis,
      ...(this.shuttingDown ? { shuttingDown: true as const } : {}),
    };
  }
}
