import { Logger, Provider, Type } from '@nestjs/common';
import { Pool } from 'pg';
import { PROJECTIONS } from '../../projections';
import { Runtime } from '../app/runtime';
import { EVENT_STORE, EventStore } from '../event-store/event-store';
import { PG_POOL } from '../http/idempotency.interceptor';
import { ReadYourWrites } from '../http/read-your-writes';
import { ProjectionRunner } from '../projection-runner/projection-runner';
import { ProjectionRunnerLifecycle } from '../projection-runner/projection-runner.service';
import { ArticleQueriesController } from './controllers/article-queries.controller';
import { AuditQueriesController, ClaimQueriesController, SourceQueriesController, TopicQueriesController } from './controllers/newsroom-queries.controller';
import { ProjectionsAdminController } from './controllers/projections-admin.controller';
import { ReadAnswer } from './controllers/read-answer';
import { ReadModels } from './read-models';
import { GetArticleHandler, ListArticlesHandler } from './queries/articles.queries';
import { GetArticleHistoryHandler, ListAuditHandler } from './queries/audit.queries';
import { ListArticleClaimsHandler, ListClaimsHandler } from './queries/claims.queries';
import { GetProjectionStatusesHandler, RequestProjectionRebuildHandler } from './queries/projections.queries';
import { GetSourceHandler, ListSourceQuotesHandler, ListSourcesHandler } from './queries/sources.queries';
import { BodyDiffer } from './queries/body-diff';
import { DiffArticleRevisionsHandler, GetArticleAtRevisionHandler } from './queries/time-travel.queries';
import { ListTopicsHandler } from './queries/topics.queries';

/*
 * The read side: the projection runner (started and stopped with the application), the QueryBus
 * handlers for API.md's Queries table, and their controllers. AppModule provides EVENT_STORE and
 * PG_POOL and spreads these lists into its own.
 */

export const READ_SIDE_CONTROLLERS: Type<unknown>[] = [
  ArticleQueriesController,
  ClaimQueriesController,
  AuditQueriesController,
  SourceQueriesController,
  TopicQueriesController,
  ProjectionsAdminController,
];

export function readSideProviders(runtime: Pick<Runtime, 'databaseUrl' | 'config'>): Provider[] {
  return [
    {
      provide: ProjectionRunner,
      inject: [EVENT_STORE, PG_POOL],
      useFactory: (store: EventStore, pool: Pool) =>
        new ProjectionRunner({
          store,
          pool,
          databaseUrl: runtime.databaseUrl,
          projections: PROJECTIONS,
          rebuildBatchSize: runtime.config.rebuildPageEvents,
          logger: new Logger('Projections'),
        }),
    },
    ProjectionRunnerLifecycle,
    ReadModels,
    ReadYourWrites,
    ReadAnswer,
    ListArticlesHandler,
    GetArticleHandler,
    ListArticleClaimsHandler,
    ListClaimsHandler,
    GetArticleHistoryHandler,
    ListAuditHandler,
    GetArticleAtRevisionHandler,
    DiffArticleRevisionsHandler,
    BodyDiffer,
    ListSourcesHandler,
    GetSourceHandler,
    ListSourceQuotesHandler,
    ListTopicsHandler,
    GetProjectionStatusesHandler,
    RequestProjectionRebuildHandler,
  ];
}
