import { Provider, Type } from '@nestjs/common';
import { Runtime } from '../app/runtime';
import { DISTRIBUTION_CONFIG, DistributionController } from './distribution.controller';

/*
 * Distribution: ninjs and ClaimReview (folded from the log), and webhook delivery (a subscriber of the
 * log of its own). AppModule spreads these lists into its own.
 */

export const DISTRIBUTION_CONTROLLERS: Type<unknown>[] = [DistributionController];

export function distributionProviders(runtime: Pick<Runtime, 'config'>): Provider[] {
  return [{ provide: DISTRIBUTION_CONFIG, useValue: runtime.config }];
}
