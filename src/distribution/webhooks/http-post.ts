import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { guardedLookup, isRefusedAddress } from './destination';

export interface PostResult {
  /** The HTTP status, or null when no answer came (refused, timed out, connection failed). */
  status: number | null;
  /** Why it did not succeed; null on a 2xx. */
  error: string | null;
}

export interface Poster {
  post(url: URL, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<PostResult>;
  close(): void;
}

/**
 * POSTs with node's http(s) and nothing in between: no redirects followed (a 3xx is not a delivery),
 * the destination's address checked as the socket connects (guardedLookup), one attempt limited to
 * `timeoutMs` from the first byte sent to the last byte of the answer, a kept-alive connection per
 * subscription.
 */
export function createPoster(options: { timeoutMs: number; allowPrivate: boolean }): Poster {
  const lookup = guardedLookup(options.allowPrivate);
  const agents = { http: new http.Agent({ keepAlive: true, maxSockets: 1 }), https: new https.Agent({ keepAlive: true, maxSockets: 1 }) };
  return {
    post(url, headers, body, signal) {
      return new Promise<PostResult>((resolve) => {
        let settled = false;
        const done = (result: PostResult) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          resolve(result);
        };
        const host = url.hostname.replace(/^\[|\]$/g, '');
        // An address in the URL is never looked up: check it here.
        if (!options.allowPrivate && isIP(host) && isRefusedAddress(host)) {
          resolve({ status: null, error: `${host} is on a loopback or private network` });
          return;
        }
        const secure = url.protocol === 'https:';
        const request = (secure ? https : http).request(url, {
          method: 'POST',
          agent: secure ? agents.https : agents.http,
          lookup: lookup as never,
          headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'Copydesk-Webhooks/1' },
        });
        const timer = setTimeout(() => {
          request.destroy();
          done({ status: null, error: `no answer within ${options.timeoutMs} ms` });
        }, options.timeoutMs);
        const onAbort = () => {
          request.destroy();
          done({ status: null, error: 'delivery stopped' });
        };
        signal.addEventListener('abort', onAbort);
        if (signal.aborted) return onAbort();
        request.on('response', (response) => {
          const status = response.statusCode ?? 0;
          response.on('data', () => undefined);
          response.on('end', () => done({ status, error: status >= 200 && status < 300 ? null : `answered ${status}` }));
          response.on('error', (error) => done({ status, error: error.message }));
        });
        request.on('error', (error: NodeJS.ErrnoException) => done({ status: null, error: error.code === 'EDESTINATIONREFUSED' ? error.message : `${error.code ?? 'error'}: ${error.message}` }));
        request.end(body);
      });
    },
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}
