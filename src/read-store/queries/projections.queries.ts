import { CommandHandler, ICommandHandler, IQueryHandler, Query, QueryHandler, Command } from '@nestjs/cqrs';
import { mapPgError } from '../../event-store/postgres-errors';
import { ProblemException } from '../../http/problem';
import { ProjectionRunner, ProjectionStatus, UnknownProjectionError } from '../../projection-runner/projection-runner';
import { Read } from '../read-models';

/** `GET /admin/projections`. */
export class GetProjectionStatuses extends Query<Read<ProjectionStatus[]>> {}

@QueryHandler(GetProjectionStatuses)
export class GetProjectionStatusesHandler implements IQueryHandler<GetProjectionStatuses> {
  constructor(private readonly runner: ProjectionRunner) {}

  async execute(): Promise<Read<ProjectionStatus[]>> {
    const position = await this.runner.readPosition().catch((error) => mapPgError(error, 'readStore'));
    return { value: await this.runner.status().catch((error) => mapPgError(error, 'readStore')), position };
  }
}

/** `POST /admin/projections/{name}/rebuild`: asks the active runner for a rebuild; does not wait for it. */
export class RequestProjectionRebuild extends Command<ProjectionStatus> {
  constructor(readonly name: string) {
    super();
  }
}

@CommandHandler(RequestProjectionRebuild)
export class RequestProjectionRebuildHandler implements ICommandHandler<RequestProjectionRebuild> {
  constructor(private readonly runner: ProjectionRunner) {}

  async execute({ name }: RequestProjectionRebuild): Promise<ProjectionStatus> {
    if (!this.runner.projections.some((p) => p.name === name)) throw notFound(name);
    try {
      await this.runner.requestRebuild(name);
    } catch (error) {
      if (error instanceof UnknownProjectionError) throw notFound(name);
      mapPgError(error, 'readStore');
    }
    const [status] = await this.runner.status([name]).catch((error) => mapPgError(error, 'readStore'));
    return status;
  }
}

function notFound(name: string): ProblemException {
  return ProblemException.of(404, 'projection-not-found', `No projection named ${name}.`);
}
