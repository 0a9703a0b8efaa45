import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule } from 'nestjs-pino';
import { AuthGuard } from './common/auth/auth.guard';
import { HttpErrorFilter } from './common/http-error.filter';
import { strictValidationPipe } from './common/validation';
import { DeclaredConfigLoader } from './config/declared-config.loader';
import { Env } from './config/env';
import { ContainersModule } from './containers/containers.module';
import { CoreModule } from './core.module';
import { databaseOptions } from './database/database-options';
import { EventsModule } from './events/events.module';
import { HostsModule } from './hosts/hosts.module';
import { LeasesModule } from './leases/leases.module';
import { ObservabilityModule } from './observability/observability.module';
import { PoolsModule } from './pools/pools.module';
import { ReconcilerModule } from './reconciler/reconciler.module';
import { TemplatesModule } from './templates/templates.module';
import { TenantsModule } from './tenants/tenants.module';

@Module({})
export class AppModule {
  static forRoot(env: Env): DynamicModule {
    return {
      module: AppModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            level: env.LOG_LEVEL,
            // Fastify assigns the id (from X-Request-Id or a new UUID) and puts it on the raw request.
            redact: ['req.headers.authorization', 'req.headers.cookie'],
            autoLogging: {
              ignore: (req) => ['/healthz', '/readyz', '/metrics'].includes(req.url ?? ''),
            },
          },
        }),
        CoreModule.forRoot(env),
        TypeOrmModule.forRootAsync({
          useFactory: () => ({
            ...databaseOptions(env),
            migrationsRun: env.WARMPOOL_MIGRATIONS_RUN,
          }),
        }),
        ScheduleModule.forRoot(),
        ContainersModule,
        HostsModule,
        TemplatesModule,
        TenantsModule,
        LeasesModule,
        PoolsModule,
        ReconcilerModule,
        EventsModule,
        ObservabilityModule,
      ],
      providers: [
        DeclaredConfigLoader,
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_FILTER, useClass: HttpErrorFilter },
        { provide: APP_PIPE, useFactory: strictValidationPipe },
      ],
    };
  }
}
