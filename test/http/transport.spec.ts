import { connect } from 'node:net';
import { slugify } from '../../src/newsroom/text';
import { startTestApp, TestApp } from '../support/app';

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Milliseconds from the first byte sent to the connection's end. */
  ms: number;
}

/**
 * Speaks HTTP/1.1 over a plain socket: `parts` are written one after another, `gapMs` apart (a slow
 * client), and the answer is whatever arrives before the server closes the connection.
 */
function raw(port: number, parts: (string | Buffer)[], gapMs = 0, waitMs = 15_000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const giveUp = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${waitMs} ms`));
    }, waitMs);
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(giveUp);
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      const [head, ...rest] = text.split('\r\n\r\n');
      const [statusLine, ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n'), ms: Date.now() - started });
    });
    let i = 0;
    const next = () => {
      if (i >= parts.length || socket.destroyed) return;
      socket.write(parts[i++]);
      timer = setTimeout(next, gapMs);
    };
    socket.on('connect', next);
  });
}

const problemOf = (answer: RawAnswer) => {
  expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
  return JSON.parse(answer.body) as { type: string; status: number; detail: string };
};

describe('the HTTP transport: timeouts, framework errors, media types, methods, security headers', () => {
  let t: TestApp;
  let port: number;
  let auth: string;
  beforeAll(async () => {
    t = await startTestApp({ requestTimeoutMs: 2000, env: { RATE_LIMIT_WRITES_PER_MINUTE: '1000000' } });
    await t.app.listen(0, '127.0.0.1');
    port = (t.app.getHttpServer().address() as { port: number }).port;
    auth = `Bearer ${t.token(['reporter', 'editor'])}`;
  });
  afterAll(async () => {
    await t.close();
  });

  it('gives up on a body trickling in a byte at a time: 408 problem+json once the request timeout has passed', async () => {
    const body = JSON.stringify({ headline: 'Slow', body: 'x'.repeat(40) });
    const head = `POST /articles HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const answer = await raw(port, [head, ...body.split('')], 400);
    expect([answer.status, problemOf(answer).type]).toEqual([408, 'request-timeout']);
    // 2 s configured, checked every second; the 40 bytes alone would have taken 16 s.
    expect(answer.ms).toBeLessThan(8000);
    expect(answer.headers.connection).toBe('close');
  });

  it('gives up on headers trickling in: 408 problem+json', async () => {
    const head = `GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ${'s'.repeat(40)}\r\n\r\n`;
    const answer = await raw(port, head.split(''), 400);
    expect([answer.status, problemOf(answer).type]).toEqual([408, 'request-timeout']);
    expect(answer.ms).toBeLessThan(8000);
  });

  it('answers a chunked body that grows past 1 MiB with 413 problem+json once the client has sent it', async () => {
    const head = `POST /articles HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`;
    const chunk = 'x'.repeat(256 * 1024);
    const chunks = Array.from({ length: 8 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    const answer = await raw(port, [head, ...chunks, '0\r\n\r\n']);
    expect([answer.status, problemOf(answer).type]).toEqual([413, 'payload-too-large']);
  });

  it('sets a 30 s request timeout and a 10 s headers timeout by default', async () => {
    const defaults = await startTestApp();
    try {
      const server = defaults.app.getHttpServer();
      expect([server.requestTimeout, server.headersTimeout]).toEqual([30_000, 10_000]);
    } finally {
      await defaults.close();
    }
  });

  it('answers headers that are too large with 431 problem+json', async () => {
    const answer = await raw(port, [`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`]);
    expect([answer.status, problemOf(answer).type]).toEqual([431, 'headers-too-large']);
  });

  it('answers a request that is not HTTP with 400 problem+json', async () => {
    const answer = await raw(port, ['GARBAGE\u0001 / HTTP/1.1\r\n\r\n']);
    expect([answer.status, problemOf(answer).type]).toEqual([400, 'bad-request']);
  });

  it('answers an over-long path segment with 414 problem+json that does not echo the path', async () => {
    const segment = `<script>${'a'.repeat(2100)}`;
    const res = await t.http().get(`/articles/${segment}`).set('authorization', auth);
    expect([res.status, res.body.type]).toEqual([414, 'uri-too-long']);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.text).not.toContain('<script>');
    expect(res.text.length).toBeLessThan(500);
  });

  it('answers a malformed percent-encoding in the path with 400 malformed-url', async () => {
    const answer = await raw(port, [`GET /articles/%E0%A4%A HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\nConnection: close\r\n\r\n`]);
    expect([answer.status, problemOf(answer).type]).toEqual([400, 'malformed-url']);
    expect(answer.body).not.toContain('%E0');
  });

  it('does not echo a malformed path id', async () => {
    const res = await t.http().get('/articles/%3Cimg%20src%3Dx%3E').set('authorization', auth);
    expect([res.status, res.body.type]).toEqual([404, 'article-not-found']);
    expect(res.text).not.toContain('<img');
  });

  it('reaches a topic whose slug is longer than 100 characters (lower-casing İ doubles it), Fastify\'s default limit for a path parameter', async () => {
    const created = await t.http().post('/articles').set('authorization', auth).send({ headline: 'H', body: 'B' });
    const label = 'İzmir İstanbul '.repeat(7).slice(0, 100).trim();
    const slug = slugify(label);
    expect([label.length <= 100, slug.length > 100]).toEqual([true, true]);
    const tagged = await t.http().post(`/articles/${created.body.id}/topics`).set('authorization', auth).send({ topic: label });
    expect(tagged.status).toBe(201);
    const untagged = await t.http().delete(`/articles/${created.body.id}/topics/${encodeURIComponent(slug)}`).set('authorization', auth);
    expect([untagged.status, untagged.body.type]).toEqual([200, undefined]);
  });

  it('refuses text/plain bodies with 415 unsupported-media-type', async () => {
    const res = await t.http().post('/articles').set('authorization', auth).set('content-type', 'text/plain').send('{"headline":"H","body":"B"}');
    expect([res.status, res.body.type]).toEqual([415, 'unsupported-media-type']);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('answers an unknown method on a known path with 405 and Allow, and an unknown path with 404', async () => {
    const patch = await t.http().patch('/articles').set('authorization', auth).send({});
    expect([patch.status, patch.body.type, patch.headers.allow]).toEqual([405, 'method-not-allowed', 'GET, HEAD, POST']);
    expect(patch.headers['content-type']).toMatch(/^application\/problem\+json/);
    const del = await t.http().delete('/articles/00000000-0000-4000-8000-000000000000').set('authorization', auth);
    expect([del.status, del.headers.allow]).toEqual([405, 'GET, HEAD']);
    const put = await t.http().put('/articles/00000000-0000-4000-8000-000000000000/quotes').set('authorization', auth).send({});
    expect([put.status, put.headers.allow]).toEqual([405, 'POST']);
    const unknown = await t.http().get('/nothing-here').set('authorization', auth);
    expect([unknown.status, unknown.body.type]).toEqual([404, 'not-found']);
    // A static-file route takes GET there, and found no file: 404, not a 405 that allows GET.
    for (const path of ['/docs/nothing.js', '/desk/assets/nothing.js']) {
      const missing = await t.http().get(path);
      expect([path, missing.status, missing.body.type, missing.headers.allow]).toEqual([path, 404, 'not-found', undefined]);
    }
  });

  it('sends HSTS and upgrade-insecure-requests only for requests that came over HTTPS', async () => {
    const plain = await t.http().get('/docs/openapi.json');
    expect(plain.headers['strict-transport-security']).toBeUndefined();
    expect(plain.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
    // Without TRUST_PROXY, a client's X-Forwarded-Proto is not believed.
    const claimed = await t.http().get('/health').set('x-forwarded-proto', 'https');
    expect(claimed.headers['strict-transport-security']).toBeUndefined();
    const proxied = await startTestApp({ env: { TRUST_PROXY: '127.0.0.1,::1,::ffff:127.0.0.1' } });
    try {
      const viaHttps = await proxied.http().get('/health').set('x-forwarded-proto', 'https');
      expect(viaHttps.headers['strict-transport-security']).toMatch(/^max-age=\d+/);
      expect(viaHttps.headers['content-security-policy']).toContain('upgrade-insecure-requests');
      const viaHttp = await proxied.http().get('/health').set('x-forwarded-proto', 'http');
      expect(viaHttp.headers['strict-transport-security']).toBeUndefined();
      expect(viaHttp.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
    } finally {
      await proxied.close();
    }
  });
});
