import { articlesProjection } from './articles.projection';
import { auditProjection } from './audit.projection';
import { claimsProjection } from './claims.projection';
import { Projection } from './projection';
import { sourcesProjection } from './sources.projection';
import { topicsProjection } from './topics.projection';

export { articlesProjection, auditProjection, claimsProjection, sourcesProjection, topicsProjection };
export * from './projection';

/** Every read model, in the order status output lists them. */
export const PROJECTIONS: readonly Projection[] = [articlesProjection, sourcesProjection, claimsProjection, topicsProjection, auditProjection];
