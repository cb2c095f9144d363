import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { CommandExecutor } from '../command-executor';
import { CommandContext, WriteResult } from '../command-context';
import { sourceDecider, sourceStream } from '../source/source.decider';
import { ArticleCommand, AttributionMethod, SourceSnapshot, articleDecider, articleStream } from './article.decider';
import { ArticleIntent, ExecuteArticleCommand } from './article-command';

/** The command, then load, decide, seal, append (CommandExecutor.handle). The only extra load is the source an attribution names. */
@CommandHandler(ExecuteArticleCommand)
export class ArticleCommandHandler implements ICommandHandler<ExecuteArticleCommand, WriteResult> {
  constructor(private readonly executor: CommandExecutor) {}

  async execute({ articleId, intent, context }: ExecuteArticleCommand): Promise<WriteResult> {
    return this.executor.handle(articleDecider, articleStream(articleId), await this.command(intent, context), context);
  }

  /** The intent with its metadata; an attribution carries the source as it is now, not only its id. */
  private async command(intent: ArticleIntent, context: CommandContext): Promise<ArticleCommand> {
    const metadata = { actor: context.actor, now: context.now };
    if (intent.type !== 'AttributeQuote' || !('sourceId' in intent.data)) return { ...intent, metadata } as ArticleCommand;
    const { sourceId, quoteId, attribution, method, reason } = intent.data;
    const source = await this.loadSource(sourceId);
    return { type: 'AttributeQuote', data: { quoteId, source, attribution: attribution ?? null, method: method as AttributionMethod, ...(reason ? { reason } : {}) }, metadata };
  }

  private async loadSource(sourceId: string): Promise<SourceSnapshot | null> {
    const { state } = await this.executor.load(sourceDecider, sourceStream(sourceId));
    if (state.status === 'none') return null;
    return { id: state.id, name: state.name, title: state.title, organization: state.organization };
  }
}
