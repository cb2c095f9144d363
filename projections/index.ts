import { articlesProjection } from './articles.projection';
import { auditProjection } from './audit.projection';
import { Projection } from './projection';
import { sourcesProjection } from './sources.projection';

export { articlesProjection, auditProjection, sourcesProjection };
export * from './projection';

/** Every read model, in the order status output lists them. */
export const PROJECTIONS: readonly Projection[] = [articlesProjection, sourcesProjection, auditProjection];
