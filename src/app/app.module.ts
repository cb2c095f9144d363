import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { ThrottlerModule } from '@nestjs/throttler';
import { Pool } from 'pg';
import { AuditVerifyController } from '../audit/audit-verify.controller';
import { AuthGuard } from '../auth/auth.guard';
import { TokenVerifier } from '../auth/oidc';
import { DeskController } from '../desk/desk.controller';
import { DISTRIBUTION_CONTROLLERS, distributionProviders } from '../distribution/distribution.module';
import { EVENT_STORE } from '../event-store/event-store';
import { HealthController } from '../health/health.controller';
import { instrumentEventStore } from '../metrics/instrumented-event-store';
import { Metrics } from '../metrics/metrics';
import { MetricsController } from '../metrics/metrics.controller';
import { ProjectionMetrics } from '../metrics/projection-metrics';
import { IdempotencyInterceptor, PG_POOL } from '../http/idempotency.interceptor';
import { ProblemFilter } from '../http/problem.filter';
import { BodyValidationPipe } from '../http/validation';
import { WriteThrottlerGuard } from '../http/write-throttler.guard';
import { ArticleCommandHandler } from '../newsroom/article/article-command.handler';
import { ArticlesController } from '../newsroom/article/articles.controller';
import { CommandExecutor } from '../newsroom/command-executor';
import { DECIDER_SNAPSHOTS, PostgresSnapshotStore } from '../newsroom/snapshots';
import { SourceCommandHandler } from '../newsroom/source/source-command.handler';
import { SourcesController } from '../newsroom/source/sources.controller';
import { READ_SIDE_CONTROLLERS, readSideProviders } from '../read-store/read-side.module';
import { Runtime } from './runtime';

/** The whole application, wired to the components a {@link Runtime} started. */
@Module({})
export class AppModule {
  static forRuntime(runtime: Runtime): DynamicModule {
    return {
      module: AppModule,
      imports: [ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => ({ copydesk: runtime.config })] }), CqrsModule.forRoot(), ThrottlerModule.forRoot({ throttlers: [{ ttl: 60_000, limit: runtime.config.writesPerMinute }] })],
      controllers: [HealthController, MetricsController, DeskController, AuditVerifyController, ArticlesController, SourcesController, ...READ_SIDE_CONTROLLERS, ...DISTRIBUTION_CONTROLLERS],
      providers: [
        { provide: Metrics, useFactory: () => new Metrics(runtime.config.metrics) },
        { provide: EVENT_STORE, useFactory: (metrics: Metrics) => instrumentEventStore(runtime.eventStore, metrics), inject: [Metrics] },
        ProjectionMetrics,
        { provide: PG_POOL, useValue: runtime.pool },
        { provide: TokenVerifier, useFactory: () => {
          const secret = runtime.jwtSecret;
          return new TokenVerifier(() => secret, runtime.config.oidc);
        } },
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_GUARD, useClass: WriteThrottlerGuard },
        { provide: APP_FILTER, useClass: ProblemFilter },
        { provide: APP_PIPE, useClass: BodyValidationPipe },
        { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor },
        { provide: DECIDER_SNAPSHOTS, useFactory: (pool: Pool) => new PostgresSnapshotStore(pool), inject: [PG_POOL] },
        CommandExecutor,
        ArticleCommandHandler,
        SourceCommandHandler,
        ...readSideProviders(runtime),
        ...distributionProviders(runtime),
      ],
    };
  }
}
