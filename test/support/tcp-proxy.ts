import { AddressInfo, createServer, Socket, connect } from 'node:net';

/**
 * A TCP proxy in front of a server that can stop forwarding while keeping every connection open —
 * a black hole, which is what a hung server (SIGSTOP, a stalled disk, a dropped route) looks like to
 * a client: connects succeed, bytes go out, nothing comes back. Bytes sent meanwhile wait in the
 * sockets' buffers and are delivered when forwarding resumes, as a stopped process would read them
 * when continued.
 */
export interface TcpProxy {
  port: number;
  /** `url` with its host and port replaced by the proxy's. */
  via(url: string): string;
  /** Stop forwarding (both directions, existing and new connections); connections stay open. */
  hang(): void;
  resume(): void;
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let hung = false;
  let accepted = 0;
  const pairs = new Set<[Socket, Socket]>();

  const forward = (from: Socket, to: Socket) => {
    from.on('data', (chunk) => {
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => hung || from.resume());
      }
    });
    from.on('end', () => to.end());
    from.on('error', () => to.destroy());
    from.on('close', () => to.destroy());
  };

  const server = createServer((client) => {
    accepted++;
    const upstream = connect(target.port, target.host);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.on('close', () => pairs.delete(pair));
    forward(client, upstream);
    forward(upstream, client);
    // Paused sockets stop reading: what the other side sends waits in the kernel's buffers.
    if (hung) for (const socket of pair) socket.pause();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    via: (url) => {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    hang: () => {
      hung = true;
      for (const pair of pairs) for (const socket of pair) socket.pause();
    },
    resume: () => {
      hung = false;
      for (const pair of pairs) for (const socket of pair) socket.resume();
    },
    connections: () => accepted,
    close: async () => {
      for (const pair of pairs) for (const socket of pair) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
