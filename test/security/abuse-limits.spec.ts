import { startTestApp, TestApp } from '../support/app';

describe('abuse limits', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { RATE_LIMIT_WRITES_PER_MINUTE: '5', CORS_ORIGINS: 'https://desk.example.org' } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('limits writes per actor with 429 and Retry-After, and leaves other actors and reads alone', async () => {
    const alice = { authorization: `Bearer ${t.token(['reporter'], 'alice')}` };
    const bob = { authorization: `Bearer ${t.token(['reporter'], 'bob')}` };
    const statuses: number[] = [];
    let id = '';
    let position = '';
    for (let i = 0; i < 7; i++) {
      const res = await t.http().post('/articles').set(alice).send({ headline: `H${i}`, body: 'B' });
      statuses.push(res.status);
      if (res.status === 201) ({ id, position } = res.body);
      if (res.status === 429) {
        expect(res.body.type).toBe('rate-limited');
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      }
    }
    expect(statuses).toEqual([201, 201, 201, 201, 201, 429, 429]);
    expect((await t.http().post('/articles').set(bob).send({ headline: 'H', body: 'B' })).status).toBe(201);
    expect((await t.http().get(`/articles/${id}`).set(alice).set('x-wait-for-position', position)).status).toBe(200);
  });

  it('sends security headers and answers CORS only for configured origins', async () => {
    const health = await t.http().get('/health');
    expect(health.headers['x-content-type-options']).toBe('nosniff');
    expect(health.headers['x-frame-options']).toBeDefined();
    expect(health.headers['content-security-policy']).toContain("default-src 'self'");
    const allowed = await t.http().options('/articles').set('origin', 'https://desk.example.org').set('access-control-request-method', 'POST');
    expect(allowed.headers['access-control-allow-origin']).toBe('https://desk.example.org');
    const other = await t.http().options('/articles').set('origin', 'https://evil.example.com').set('access-control-request-method', 'POST');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('closes CORS entirely when no origin is configured', async () => {
    const closed = await startTestApp();
    try {
      const res = await closed.http().get('/health').set('origin', 'https://desk.example.org');
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await closed.close();
    }
  });
});
