/**
 * An EventStoreDB stand-in for tests: it speaks EventStoreDB's gRPC client protocol (insecure only,
 * single node) so the real `@eventstore/db-client` — and our adapter on top of it — talk to it over
 * the wire. Events live in memory (`EsdbMemoryStore`); pass the store back in to keep them across a
 * stop/restart on the same port.
 *
 * What it implements and what it does not: see the comments in `store.ts` and `grpc-services.ts`.
 */
import * as grpc from '@grpc/grpc-js';
import {
  CallStats,
  ServerFeaturesService,
  ServiceOptions,
  StreamsService,
  createServerFeaturesService,
  createStreamsService,
} from './grpc-services';
import { EsdbMemoryStore } from './store';

export { EsdbMemoryStore } from './store';
export type { StoredEvent } from './store';

export interface EsdbTestServerOptions {
  /** 0 or absent: pick a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Keep data across a restart by passing the previous handle's store. */
  store?: EsdbMemoryStore;
  /** Advertise Streams.BatchAppend (EventStoreDB >= 21.10 does; the client then prefers it). Default true. */
  advertiseBatchAppend?: boolean;
  /** Send `caught_up` when subscriptions go live (EventStoreDB >= 23.10). Default true. */
  sendCaughtUp?: boolean;
  /** Reported by ServerFeatures. Default "23.10.0". */
  serverVersion?: string;
  /** Maximum bytes per append. Default 1 MiB, as EventStoreDB. */
  maxAppendSize?: number;
}

export interface EsdbTestServer {
  port: number;
  /** `esdb://127.0.0.1:PORT?tls=false` */
  connectionString: string;
  store: EsdbMemoryStore;
  /** RPCs received, by method, since this server started. */
  stats: CallStats;
  /** Drops every connection and call at once, like a crashed node, and frees the port. */
  stop(): Promise<void>;
}

export async function startEsdbTestServer(options: EsdbTestServerOptions = {}): Promise<EsdbTestServer> {
  const host = options.host ?? '127.0.0.1';
  const store = options.store ?? new EsdbMemoryStore();
  const serviceOptions: ServiceOptions = {
    advertiseBatchAppend: options.advertiseBatchAppend ?? true,
    sendCaughtUp: options.sendCaughtUp ?? true,
    serverVersion: options.serverVersion ?? '23.10.0',
    maxAppendSize: options.maxAppendSize ?? 1024 * 1024,
  };
  const stats: CallStats = { calls: {}, openSubscriptions: 0 };
  const liveCalls = new Set<() => void>();

  const server = new grpc.Server({
    // Let the client's keepalive pings (every 10 s, also without calls) through.
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 1000,
    'grpc.max_receive_message_length': 17 * 1024 * 1024,
  });
  server.addService(StreamsService, createStreamsService(store, serviceOptions, stats, liveCalls));
  server.addService(ServerFeaturesService, createServerFeaturesService(serviceOptions, stats));

  const port = await bindWithRetry(server, `${host}:${options.port ?? 0}`);
  // A node that starts (or restarts) writes a new epoch, which shows up in $all as a system event.
  store.writeEpoch();

  let stopped = false;
  return {
    port,
    connectionString: `esdb://${host}:${port}?tls=false`,
    store,
    stats,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      server.forceShutdown();
      for (const kill of [...liveCalls]) kill();
      // Let the listening socket close before anyone binds the port again.
      await new Promise((resolve) => setTimeout(resolve, 20));
    },
  };
}

/** Binds, retrying briefly while a just-stopped server still holds the port. */
async function bindWithRetry(server: grpc.Server, address: string): Promise<number> {
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      return await new Promise<number>((resolve, reject) => {
        server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, port) => (error ? reject(error) : resolve(port)));
      });
    } catch (error) {
      lastError = error as Error;
      if (!/EADDRINUSE|address already in use/i.test(lastError.message)) throw lastError;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw lastError ?? new Error(`could not bind ${address}`);
}
