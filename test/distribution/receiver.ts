import http from 'node:http';
import { AddressInfo, Socket } from 'node:net';

export interface Received {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  at: number;
  /** What the receiver answered. */
  answered: number | 'hung';
}

export type Mode = 'ok' | 500 | 'hang';

/**
 * A real webhook receiver on 127.0.0.1: records every request (headers, raw body, arrival time) and
 * answers as `mode` says: 200, 500, or never. `stop()` closes it (connections refused) and `start()`
 * brings it back on the same port.
 */
export class Receiver {
  readonly requests: Received[] = [];
  mode: Mode = 'ok';
  /** Answer this long after the request arrived. */
  delayMs = 0;
  /** Called as each request arrives, before it is answered. */
  onRequest: ((request: Received) => void) | null = null;
  port = 0;
  private server: http.Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly hung = new Set<http.ServerResponse>();
  private waiters: (() => void)[] = [];

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  /** The requests answered 2xx, in arrival order. */
  get delivered(): Received[] {
    return this.requests.filter((r) => r.answered === 200);
  }

  async start(): Promise<this> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const mode = this.mode;
        const received: Received = {
          id: String(req.headers['webhook-id']),
          timestamp: String(req.headers['webhook-timestamp']),
          signature: String(req.headers['webhook-signature']),
          body: Buffer.concat(chunks).toString('utf8'),
          at: Date.now(),
          answered: mode === 'hang' ? 'hung' : mode === 'ok' ? 200 : mode,
        };
        this.requests.push(received);
        this.onRequest?.(received);
        if (mode === 'hang') this.hung.add(res);
        else if (this.delayMs > 0) setTimeout(() => res.writeHead(mode === 'ok' ? 200 : mode).end(), this.delayMs);
        else res.writeHead(mode === 'ok' ? 200 : mode).end();
        const waiters = this.waiters;
        this.waiters = [];
        for (const wake of waiters) wake();
      });
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    for (const res of this.hung) res.destroy();
    this.hung.clear();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Resolves when `done()` holds, checking after every request; rejects after `timeoutMs`. */
  async until(done: () => boolean, timeoutMs = 20_000, what = 'the receiver to get what was expected'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${this.requests.length} requests so far)`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}
