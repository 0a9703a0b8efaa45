import { DynamicModule, Global, Module } from '@nestjs/common';
import { AppConfig } from './config/app-config';
import { Env } from './config/env';
import { Coordination } from './coordination/coordination';
import { InProcessCoordination } from './coordination/in-process/in-process.coordination';
import { ReconcileKicker } from './coordination/reconcile-kicker';
import { RedisCoordination } from './coordination/redis/redis.coordination';
import { EventsService } from './events/events.service';
import { MetricsService } from './observability/metrics.service';
import { EmbeddedLeader, LeaderElection, PgAdvisoryLeader } from './reconciler/leader-election';

/** What every feature may use: config, coordination, leadership, metrics, the audit log. */
@Global()
@Module({})
export class CoreModule {
  static forRoot(env: Env): DynamicModule {
    return {
      module: CoreModule,
      providers: [
        { provide: AppConfig, useValue: new AppConfig(env) },
        {
          provide: Coordination,
          useFactory: () =>
            env.REDIS_URL ? new RedisCoordination(env.REDIS_URL) : new InProcessCoordination(),
        },
        {
          provide: LeaderElection,
          useFactory: () =>
            env.DATABASE_URL ? new PgAdvisoryLeader(env.DATABASE_URL) : new EmbeddedLeader(),
        },
        ReconcileKicker,
        MetricsService,
        EventsService,
      ],
      exports: [
        AppConfig,
        Coordination,
        LeaderElection,
        ReconcileKicker,
        MetricsService,
        EventsService,
      ],
    };
  }
}
