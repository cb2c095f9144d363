import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { Runtime } from '../app/runtime';
import { articleDecider, articleStream } from '../newsroom/article/article.decider';
import { DraftArticleDto } from '../newsroom/article/dto/article-commands.dto';
import { Actor, Role } from '../newsroom/actor';
import { CommandExecutor } from '../newsroom/command-executor';
import { WriteResult } from '../newsroom/command-context';

/** Plain text to a body: paragraphs are split by blank lines or single newlines, then joined by blank lines. */
export function textToBody(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split(/\n+/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .join('\n\n');
}

/** The command line acts as the local operator unless COPYDESK_ACTOR_ID / COPYDESK_ACTOR_NAME say who. */
export function cliActor(roles: Role[] = ['reporter'], env: NodeJS.ProcessEnv = process.env): Actor {
  const user = (() => {
    try {
      return userInfo().username;
    } catch {
      return 'operator';
    }
  })();
  return { id: env.COPYDESK_ACTOR_ID ?? `cli:${user}`, name: env.COPYDESK_ACTOR_NAME ?? user, roles };
}

/** Drafts an article from a text file through the same decider and executor as `POST /articles`. */
export async function importArticle(runtime: Runtime, file: string, headline: string, byline?: string): Promise<WriteResult & { id: string }> {
  const dto = plainToInstance(DraftArticleDto, { headline, body: textToBody(readFileSync(file, 'utf8')), ...(byline ? { byline } : {}) });
  const errors = await validate(dto, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length > 0) {
    const fields = errors.map((e) => `${e.property}: ${Object.values(e.constraints ?? {}).join('; ')}`);
    throw new Error(`cannot import: ${fields.join(', ')}`);
  }
  const articleId = randomUUID();
  const commandId = randomUUID();
  const actor = cliActor();
  const now = new Date().toISOString();
  const result = await new CommandExecutor(runtime.eventStore).handle(
    articleDecider,
    articleStream(articleId),
    { type: 'DraftArticle', data: { articleId, headline: dto.headline, body: dto.body, byline: dto.byline ?? null, desk: null }, metadata: { actor, now } },
    { actor, commandId, freshCommandId: true, correlationId: commandId, causationId: commandId, now },
  );
  return { id: articleId, ...result };
}
