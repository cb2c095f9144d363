import { DomainError } from '../domain-error';
import { lookAlikeMatch } from '../typography';

/**
 * `quote-not-in-body`. When the quote differs from a passage of the body only by typographic
 * look-alikes (a straight `"` where the body has `“`, a hyphen for a dash), the detail says so and the
 * `hint` member gives the passage as the body writes it, which the client can send instead.
 */
export function quoteNotInBody(body: string, quoteText: string): DomainError {
  const match = lookAlikeMatch(body, quoteText);
  if (!match) return new DomainError('quote-not-in-body', 'The quote does not appear verbatim in the current body');
  const pairs = match.differences.map((d) => `${d.quote} where the body has ${d.body}`).join(', ');
  return new DomainError(
    'quote-not-in-body',
    `The quote does not appear verbatim in the current body; it differs from the body's "${match.bodyText}" only in typography (${pairs})`,
    { hint: { kind: 'typographic-look-alikes', bodyText: match.bodyText, differences: match.differences } },
  );
}
