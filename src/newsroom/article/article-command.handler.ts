import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { CommandExecutor } from '../command-executor';
import { WriteResult } from '../command-context';
import { sourceDecider, sourceStream } from '../source/source.decider';
import { ArticleCommand, AttributionMethod, SourceSnapshot, articleDecider, articleStream } from './article.decider';
import { ExecuteArticleCommand } from './article-command';

/** Load, decide, append. The only extra load is the source an attribution names. */
@CommandHandler(ExecuteArticleCommand)
export class ArticleCommandHandler implements ICommandHandler<ExecuteArticleCommand, WriteResult> {
  constructor(private readonly executor: CommandExecutor) {}

  async execute({ articleId, intent, context, created }: ExecuteArticleCommand): Promise<WriteResult> {
    const metadata = { actor: context.actor, now: context.now };
    let command: ArticleCommand;
    if (intent.type === 'AttributeQuote' && 'sourceId' in intent.data) {
      const { sourceId, quoteId, attribution, method, reason } = intent.data;
      const source = await this.loadSource(sourceId);
      const data = { quoteId, source, attribution: attribution ?? null, method: method as AttributionMethod, ...(reason ? { reason } : {}) };
      command = { type: 'AttributeQuote', data, metadata };
    } else {
      command = { ...intent, metadata } as ArticleCommand;
    }
    const reason = 'reason' in command.data && typeof command.data.reason === 'string' ? command.data.reason : undefined;
    return this.executor.execute(articleDecider, articleStream(articleId), articleId, context, () => command, { reason, created });
  }

  private async loadSource(sourceId: string): Promise<SourceSnapshot | null> {
    const { state } = await this.executor.load(sourceDecider, sourceStream(sourceId));
    if (state.status === 'none') return null;
    return { id: state.id, name: state.name, title: state.title, organization: state.organization };
  }
}
