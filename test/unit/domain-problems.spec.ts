import { PROBLEM_TYPES } from '../../src/http/openapi/problem-types';
import { toProblem } from '../../src/http/problem.filter';
import { decide, initialState } from '../../src/newsroom/article/article.decider';
import { DomainError } from '../../src/newsroom/domain-error';

const actor = { id: 'rita', name: 'Rita', roles: ['reporter' as const] };

describe('domain refusals at the HTTP edge', () => {
  it('a decider refusal carries no status; the edge answers it with its problem type, status, title and extra members', () => {
    let refusal: unknown;
    try {
      decide({ type: 'SubmitArticle', data: {}, metadata: { actor, now: '2026-01-01T00:00:00.000Z' } }, initialState());
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(DomainError);
    expect(Object.keys(refusal as object)).not.toContain('status');
    expect(toProblem(refusal).problem).toEqual({ type: 'article-not-found', title: 'Not Found', status: 404, detail: 'Article not found' });
    const blocked = new DomainError('publish-blocked', 'blocked', { blockers: [{ kind: 'claim-without-verdict' }] });
    expect(toProblem(blocked).problem).toEqual({ type: 'publish-blocked', title: 'Conflict', status: 409, detail: 'blocked', blockers: [{ kind: 'claim-without-verdict' }] });
  });

  it.each([
    ['four-eyes', 403],
    ['forbidden', 403],
    ['quote-not-found', 404],
    ['invalid-transition', 409],
    ['concurrency-conflict', 409],
    ['reason-required', 422],
    ['invalid-topic', 422],
    ['evidence-required', 422],
  ] as const)('%s answers %i, as PROBLEM_TYPES says', (type, status) => {
    expect(toProblem(new DomainError(type, 'x')).problem.status).toBe(status);
    expect(PROBLEM_TYPES[type][0]).toBe(status);
  });
});
