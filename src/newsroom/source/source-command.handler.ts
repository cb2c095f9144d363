import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { CommandExecutor } from '../command-executor';
import { WriteResult } from '../command-context';
import { SourceCommand, sourceDecider, sourceStream } from './source.decider';
import { ExecuteSourceCommand } from './source-command';

@CommandHandler(ExecuteSourceCommand)
export class SourceCommandHandler implements ICommandHandler<ExecuteSourceCommand, WriteResult> {
  constructor(private readonly executor: CommandExecutor) {}

  execute({ sourceId, intent, context }: ExecuteSourceCommand): Promise<WriteResult> {
    const command = { ...intent, metadata: { actor: context.actor, now: context.now } } as SourceCommand;
    return this.executor.handle(sourceDecider, sourceStream(sourceId), command, context);
  }
}
