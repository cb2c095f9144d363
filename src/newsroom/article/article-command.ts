import { Command } from '@nestjs/cqrs';
import { CommandContext, WriteResult } from '../command-context';
import { ArticleCommand } from './article.decider';

type WithoutMetadata<C> = C extends unknown ? Omit<C, 'metadata'> : never;
/** An article command as a controller states it; metadata is filled from the context. */
export type ArticleIntent = WithoutMetadata<ArticleCommand> | { type: 'AttributeQuote'; data: { quoteId: string; sourceId: string; attribution?: string | null; method: string; reason?: string } };

/** The CommandBus message for every article command (one decider, one handler). */
export class ExecuteArticleCommand extends Command<WriteResult> {
  constructor(
    readonly articleId: string,
    readonly intent: ArticleIntent,
    readonly context: CommandContext,
  ) {
    super();
  }
}
