import { Command } from '@nestjs/cqrs';
import { CommandContext, WriteResult } from '../command-context';
import { SourceCommand } from './source.decider';

type WithoutMetadata<C> = C extends unknown ? Omit<C, 'metadata'> : never;

export class ExecuteSourceCommand extends Command<WriteResult> {
  constructor(
    readonly sourceId: string,
    readonly intent: WithoutMetadata<SourceCommand>,
    readonly context: CommandContext,
  ) {
    super();
  }
}
