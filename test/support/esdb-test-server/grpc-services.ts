/**
 * EventStoreDB's gRPC client protocol (the `event_store.client.*` services shipped with
 * `@eventstore/db-client` in `generated/`) on top of `EsdbMemoryStore`. Message shapes and error
 * statuses follow the server's transport code in EventStore/EventStore
 * `src/EventStore.Core/Services/Transport/Grpc/` (Streams.Append.cs, Streams.BatchAppend.cs,
 * Streams.Read.cs, Streams.Delete.cs, Enumerators.*.cs, RpcExceptions.cs, Status.cs, ServerFeatures.cs).
 */
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { Any } from 'google-protobuf/google/protobuf/any_pb';
import { Empty as WktEmpty } from 'google-protobuf/google/protobuf/empty_pb';
import * as streamsGrpc from '@eventstore/db-client/generated/streams_grpc_pb';
import * as featuresGrpc from '@eventstore/db-client/generated/serverfeatures_grpc_pb';
import {
  AppendReq,
  AppendResp,
  BatchAppendReq,
  BatchAppendResp,
  DeleteReq,
  DeleteResp,
  ReadReq,
  ReadResp,
  TombstoneReq,
  TombstoneResp,
} from '@eventstore/db-client/generated/streams_pb';
import { SupportedMethod, SupportedMethods } from '@eventstore/db-client/generated/serverfeatures_pb';
import {
  AllStreamPosition,
  Empty,
  MaximumAppendSizeExceeded,
  StreamDeleted,
  StreamIdentifier,
  UUID,
  WrongExpectedVersion as SharedWrongExpectedVersion,
} from '@eventstore/db-client/generated/shared_pb';
import { Status as RpcStatus } from '@eventstore/db-client/generated/status_pb';
import { Code } from '@eventstore/db-client/generated/code_pb';
import {
  DELETED_STREAM,
  EXPECTED_ANY,
  EXPECTED_NO_STREAM,
  EXPECTED_STREAM_EXISTS,
  EsdbMemoryStore,
  EventFilter,
  ExpectedVersion,
  POSITION_END,
  ProposedEvent,
  StoredEvent,
  TfPos,
  comparePos,
  matchesFilter,
  positionOf,
} from './store';

export interface ServiceOptions {
  /** Advertise Streams.BatchAppend in ServerFeatures (EventStoreDB >= 21.10 does). Default true. */
  advertiseBatchAppend: boolean;
  /** Send `caught_up` when a subscription turns live (EventStoreDB >= 23.10 does). Default true. */
  sendCaughtUp: boolean;
  /** Version reported by ServerFeatures. */
  serverVersion: string;
  /** `--max-append-size`, default 1 MiB (ClusterVNodeOptions MaxAppendSize). */
  maxAppendSize: number;
}

export interface CallStats {
  /** Calls received, by method name (`Read`, `Append`, `BatchAppend`, ...). */
  calls: Record<string, number>;
  /** Read calls that are subscriptions, currently open. */
  openSubscriptions: number;
}

/** Read page size of the gRPC enumerators (Enumerators.cs `ReadBatchSize = 32`), the default filter window. */
const READ_BATCH_SIZE = 32;

/** Constants.Exceptions keys (src/EventStore.Core/Services/Transport/Grpc/Constants.cs). */
const EXCEPTION_KEY = 'exception';

function rpcError(code: grpc.status, details: string, trailers: Record<string, string> = {}): grpc.ServiceError {
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(trailers)) metadata.set(key, value);
  return Object.assign(new Error(details), { code, details, metadata }) as grpc.ServiceError;
}

/** RpcExceptions.StreamDeleted: FailedPrecondition with `exception: stream-deleted`. */
function streamDeletedError(stream: string): grpc.ServiceError {
  return rpcError(grpc.status.FAILED_PRECONDITION, `Event stream '${stream}' is deleted.`, {
    [EXCEPTION_KEY]: 'stream-deleted',
    'stream-name': stream,
  });
}

/** RpcExceptions.WrongExpectedVersion (used by Delete/Tombstone; Append answers in its response instead). */
function wrongExpectedVersionError(operation: string, stream: string, expected: bigint, actual: bigint): grpc.ServiceError {
  return rpcError(
    grpc.status.FAILED_PRECONDITION,
    `${operation} failed due to WrongExpectedVersion. Stream: ${stream}, Expected version: ${expected}, Actual version: ${actual}`,
    {
      [EXCEPTION_KEY]: 'wrong-expected-version',
      'stream-name': stream,
      'expected-version': expected.toString(),
      // ESDB sends the version (or an empty string); the client reads an empty one as "no_stream".
      'actual-version': actual < 0n ? '' : actual.toString(),
    },
  );
}

/** RpcExceptions.RequiredMetadataPropertyMissing. */
function missingMetadataError(property: string): grpc.ServiceError {
  return rpcError(grpc.status.INVALID_ARGUMENT, `Required Metadata Property '${property}' is missing`, {
    [EXCEPTION_KEY]: 'missing-required-metadata-property',
    'required-metadata-properties': 'type,content-type',
  });
}

/** RpcExceptions.MaxAppendSizeExceeded. */
function maxAppendSizeError(max: number): grpc.ServiceError {
  return rpcError(grpc.status.INVALID_ARGUMENT, `Maximum Append Size of ${max} Exceeded.`, {
    [EXCEPTION_KEY]: 'maximum-append-size-exceeded',
    'maximum-append-size': String(max),
  });
}

function streamNameOf(identifier: StreamIdentifier | undefined): string {
  if (!identifier) throw rpcError(grpc.status.INVALID_ARGUMENT, 'stream identifier is required');
  return Buffer.from(identifier.getStreamName_asU8()).toString('utf8');
}

function identifierOf(name: string): StreamIdentifier {
  return new StreamIdentifier().setStreamName(Uint8Array.from(Buffer.from(name, 'utf8')));
}

const UUID_D = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Uuid.FromDto: the string form (Guid.Parse: D, N, B or P format) or the two structured halves. */
function parseUuid(uuid: UUID | undefined): string {
  if (!uuid) throw rpcError(grpc.status.INVALID_ARGUMENT, 'event id is required');
  if (uuid.hasStructured()) {
    const s = uuid.getStructured()!;
    const buf = Buffer.alloc(16);
    buf.writeBigInt64BE(BigInt(s.getMostSignificantBits()), 0);
    buf.writeBigInt64BE(BigInt(s.getLeastSignificantBits()), 8);
    const hex = buf.toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
  const raw = uuid.getString().trim().toLowerCase().replace(/^[{(]|[})]$/g, '');
  const d = /^[0-9a-f]{32}$/.test(raw)
    ? `${raw.slice(0, 8)}-${raw.slice(8, 12)}-${raw.slice(12, 16)}-${raw.slice(16, 20)}-${raw.slice(20)}`
    : raw;
  if (!UUID_D.test(d)) throw rpcError(grpc.status.UNKNOWN, `Unrecognized Guid format: ${uuid.getString()}`);
  return d;
}

/** Structured UUIDs carry the halves as signed int64 (Uuid.ToDto). */
function uuidDto(id: string, structured: boolean): UUID {
  const uuid = new UUID();
  if (!structured) return uuid.setString(id);
  const buf = Buffer.from(id.replace(/-/g, ''), 'hex');
  const s = new UUID.Structured()
    .setMostSignificantBits(buf.readBigInt64BE(0).toString())
    .setLeastSignificantBits(buf.readBigInt64BE(8).toString());
  return uuid.setStructured(s);
}

/** Constants.Metadata: `type`, `content-type` (application/json or application/octet-stream), `created`. */
function proposedFrom(
  message: { getId(): UUID | undefined; getMetadataMap(): { get(key: string): string | undefined }; getData_asU8(): Uint8Array; getCustomMetadata_asU8(): Uint8Array },
): ProposedEvent {
  const metadata = message.getMetadataMap();
  const type = metadata.get('type');
  if (type === undefined) throw missingMetadataError('type');
  const contentType = metadata.get('content-type');
  if (contentType === undefined) throw missingMetadataError('content-type');
  return {
    eventId: parseUuid(message.getId()),
    type,
    isJson: contentType === 'application/json',
    data: Buffer.from(message.getData_asU8()),
    metadata: Buffer.from(message.getCustomMetadata_asU8()),
  };
}

/** Event.SizeOnDisk, near enough: what counts against the max append size. */
function sizeOnDisk(e: ProposedEvent): number {
  return e.data.length + e.metadata.length + Buffer.byteLength(e.type);
}

function toRecordedEvent(e: StoredEvent, structuredIds: boolean): ReadResp.ReadEvent.RecordedEvent {
  // ConvertToRecordedEvent (Enumerators.cs): id as asked (string / structured), stream, revision,
  // commit & prepare position, and metadata `type`, `created` (ticks since the epoch), `content-type`.
  const recorded = new ReadResp.ReadEvent.RecordedEvent()
    .setId(uuidDto(e.eventId, structuredIds))
    .setStreamIdentifier(identifierOf(e.streamId))
    .setStreamRevision(e.revision.toString())
    .setCommitPosition(e.logPosition.toString())
    .setPreparePosition(e.logPosition.toString())
    .setData(Uint8Array.from(e.data))
    .setCustomMetadata(Uint8Array.from(e.metadata));
  recorded.getMetadataMap().set('type', e.type);
  recorded.getMetadataMap().set('created', e.createdTicks.toString());
  recorded.getMetadataMap().set('content-type', e.isJson ? 'application/json' : 'application/octet-stream');
  return recorded;
}

/**
 * A ReadResp carrying one event. Stream reads and stream subscriptions carry the $all position too:
 * EventStoreDB populates it for gRPC stream reads since 22.6 (kurrent-io/KurrentDB PR #3459,
 * "Populate $all position for stream reads/subscriptions. gRPC & non-transaction only").
 */
function eventResp(e: StoredEvent, structuredIds: boolean): ReadResp {
  const readEvent = new ReadResp.ReadEvent().setEvent(toRecordedEvent(e, structuredIds)).setCommitPosition(e.logPosition.toString());
  return new ReadResp().setEvent(readEvent);
}

function readPosition(p: ReadReq.Options.Position): TfPos | 'end' {
  const commit = BigInt(p.getCommitPosition());
  const prepare = BigInt(p.getPreparePosition());
  if (commit === POSITION_END && prepare === POSITION_END) return 'end';
  return { commit, prepare };
}

function filterOf(options: ReadReq.Options): { filter?: EventFilter; window: number; checkpointInterval: number } {
  if (!options.hasFilter()) return { window: READ_BATCH_SIZE, checkpointInterval: 0 };
  const f = options.getFilter()!;
  const expression = f.hasEventType() ? f.getEventType()! : f.getStreamIdentifier();
  if (!expression) throw rpcError(grpc.status.INVALID_ARGUMENT, 'filter needs an event type or a stream identifier expression');
  const filter: EventFilter = { on: f.hasEventType() ? 'event_type' : 'stream_name' };
  // Streams.Read.cs ConvertToEventFilter: a non-empty regex wins, else the prefixes.
  if (expression.getRegex()) filter.regex = new RegExp(expression.getRegex());
  else filter.prefixes = expression.getPrefixList();
  // AllSubscriptionFiltered: window = Max ?? ReadBatchSize; checkpoint every multiplier × window events.
  const window = f.hasMax() ? f.getMax() : READ_BATCH_SIZE;
  const multiplier = f.getCheckpointintervalmultiplier();
  if (options.hasSubscription() && multiplier === 0) {
    throw rpcError(grpc.status.INVALID_ARGUMENT, 'checkpointIntervalMultiplier must be greater than 0');
  }
  return { filter, window, checkpointInterval: multiplier * window };
}

/** Writes to a server stream honouring backpressure; `write` resolves false once the call is gone. */
class CallWriter {
  private gone = false;
  private wakers: Array<() => void> = [];
  private drainers: Array<() => void> = [];

  constructor(private readonly call: grpc.ServerWritableStream<ReadReq, ReadResp>) {
    const finish = () => {
      this.gone = true;
      this.wake();
      const drainers = this.drainers;
      this.drainers = [];
      for (const d of drainers) d();
    };
    call.on('cancelled', finish);
    call.on('close', finish);
    call.on('error', finish);
  }

  get isGone(): boolean {
    return this.gone;
  }

  /** Wakes a pump waiting for new writes. */
  wake(): void {
    const wakers = this.wakers;
    this.wakers = [];
    for (const w of wakers) w();
  }

  /** Resolves on wake() (a store write) or when the call goes away. */
  waitForWake(): Promise<void> {
    if (this.gone) return Promise.resolve();
    return new Promise((resolve) => this.wakers.push(resolve));
  }

  async write(message: ReadResp): Promise<boolean> {
    if (this.gone) return false;
    if (this.call.write(message)) return true;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.call.off('drain', done);
        resolve();
      };
      this.call.on('drain', done);
      this.drainers.push(done);
    });
    return !this.gone;
  }

  end(): void {
    if (!this.gone) this.call.end();
  }

  fail(error: grpc.ServiceError): void {
    if (!this.gone) this.call.emit('error', error);
  }
}

export function createStreamsService(store: EsdbMemoryStore, serviceOptions: ServiceOptions, stats: CallStats, liveCalls: Set<() => void>) {
  const count = (method: string) => {
    stats.calls[method] = (stats.calls[method] ?? 0) + 1;
  };

  function expectedFromAppendOptions(o: AppendReq.Options): ExpectedVersion {
    switch (o.getExpectedStreamRevisionCase()) {
      case AppendReq.Options.ExpectedStreamRevisionCase.REVISION:
        return BigInt(o.getRevision());
      case AppendReq.Options.ExpectedStreamRevisionCase.NO_STREAM:
        return EXPECTED_NO_STREAM;
      case AppendReq.Options.ExpectedStreamRevisionCase.ANY:
        return EXPECTED_ANY;
      case AppendReq.Options.ExpectedStreamRevisionCase.STREAM_EXISTS:
        return EXPECTED_STREAM_EXISTS;
      default:
        throw rpcError(grpc.status.INVALID_ARGUMENT, 'expected stream revision is required');
    }
  }

  /**
   * Streams.Append (Streams.Append.cs): the first message carries the options, the rest one proposed
   * event each. Success → current revision (or no_stream) and the position; a version conflict is
   * not an RPC error but `wrong_expected_version` in the response, with the current revision (or
   * current_no_stream) and the expected one — both the 20.6 fields and the newer ones.
   */
  const append: grpc.handleClientStreamingCall<AppendReq, AppendResp> = (call, callback) => {
    count('Append');
    let stream: string | undefined;
    let expected: ExpectedVersion | undefined;
    let expectedCase: AppendReq.Options.ExpectedStreamRevisionCase | undefined;
    const events: ProposedEvent[] = [];
    let size = 0;
    let failed = false;
    const fail = (error: grpc.ServiceError) => {
      if (failed) return;
      failed = true;
      callback(error);
    };
    call.on('data', (req: AppendReq) => {
      if (failed) return;
      try {
        if (stream === undefined) {
          if (!req.hasOptions()) throw rpcError(grpc.status.UNKNOWN, 'the first append message must carry the options');
          const o = req.getOptions()!;
          stream = streamNameOf(o.getStreamIdentifier());
          expected = expectedFromAppendOptions(o);
          expectedCase = o.getExpectedStreamRevisionCase();
          return;
        }
        if (!req.hasProposedMessage()) throw rpcError(grpc.status.UNKNOWN, 'expected a proposed message');
        const proposed = proposedFrom(req.getProposedMessage()!);
        size += sizeOnDisk(proposed);
        if (size > serviceOptions.maxAppendSize) throw maxAppendSizeError(serviceOptions.maxAppendSize);
        events.push(proposed);
      } catch (error) {
        fail(error as grpc.ServiceError);
      }
    });
    call.on('error', () => {
      failed = true; // cancelled by the client: nothing to answer
    });
    call.on('end', () => {
      if (failed) return;
      if (stream === undefined || expected === undefined) return fail(rpcError(grpc.status.UNKNOWN, 'no append options received'));
      const outcome = store.append(stream, expected, events);
      const resp = new AppendResp();
      if (outcome.kind === 'stream_deleted') return fail(streamDeletedError(stream));
      if (outcome.kind === 'success') {
        const success = new AppendResp.Success();
        if (outcome.currentRevision < 0n) success.setNoStream(new Empty());
        else success.setCurrentRevision(outcome.currentRevision.toString());
        if (outcome.position.commit < 0n) success.setNoPosition(new Empty());
        else
          success.setPosition(
            new AppendResp.Position().setCommitPosition(outcome.position.commit.toString()).setPreparePosition(outcome.position.prepare.toString()),
          );
        resp.setSuccess(success);
        return callback(null, resp);
      }
      const wev = new AppendResp.WrongExpectedVersion();
      switch (expectedCase) {
        case AppendReq.Options.ExpectedStreamRevisionCase.ANY:
          wev.setExpectedAny(new Empty()).setAny2060(new Empty());
          break;
        case AppendReq.Options.ExpectedStreamRevisionCase.STREAM_EXISTS:
          wev.setExpectedStreamExists(new Empty()).setStreamExists2060(new Empty());
          break;
        case AppendReq.Options.ExpectedStreamRevisionCase.NO_STREAM:
          wev.setExpectedNoStream(new Empty()); // (20.6 field: ulong.MaxValue, omitted)
          break;
        default:
          wev.setExpectedRevision(expected.toString()).setExpectedRevision2060(Number(expected));
      }
      if (outcome.currentRevision < 0n) wev.setCurrentNoStream(new Empty()).setNoStream2060(new Empty());
      else wev.setCurrentRevision(outcome.currentRevision.toString()).setCurrentRevision2060(Number(outcome.currentRevision));
      resp.setWrongExpectedVersion(wev);
      callback(null, resp);
    });
  };

  function packed(message: { serializeBinary(): Uint8Array }, typeName: string): Any {
    const any = new Any();
    any.pack(message.serializeBinary(), typeName);
    return any;
  }

  /**
   * Streams.BatchAppend (Streams.BatchAppend.cs): a bidi stream of writes keyed by correlation id;
   * options come with the first chunk, proposed messages accumulate until `is_final`. Each write is
   * answered with its correlation id and stream, and either `success` (revision + position) or an
   * `error` google.rpc.Status whose details pack the reason (Status.cs: WrongExpectedVersion →
   * ALREADY_EXISTS with event_store.client.WrongExpectedVersion; StreamDeleted → NOT_FOUND; ...).
   */
  const batchAppend: grpc.handleBidiStreamingCall<BatchAppendReq, BatchAppendResp> = (call) => {
    count('BatchAppend');
    const pending = new Map<string, { stream: string; expected: ExpectedVersion; events: ProposedEvent[]; size: number; identifier: StreamIdentifier }>();
    let gone = false;
    call.on('cancelled', () => (gone = true));
    call.on('error', () => (gone = true));
    const send = (resp: BatchAppendResp) => {
      if (!gone) call.write(resp);
    };
    call.on('data', (req: BatchAppendReq) => {
      const correlation = req.getCorrelationId();
      let key = '';
      try {
        key = parseUuid(correlation);
        if (req.hasOptions()) {
          const o = req.getOptions()!;
          let expected: ExpectedVersion;
          switch (o.getExpectedStreamPositionCase()) {
            case BatchAppendReq.Options.ExpectedStreamPositionCase.STREAM_POSITION:
              expected = BigInt(o.getStreamPosition());
              break;
            case BatchAppendReq.Options.ExpectedStreamPositionCase.NO_STREAM:
              expected = EXPECTED_NO_STREAM;
              break;
            case BatchAppendReq.Options.ExpectedStreamPositionCase.STREAM_EXISTS:
              expected = EXPECTED_STREAM_EXISTS;
              break;
            case BatchAppendReq.Options.ExpectedStreamPositionCase.ANY:
              expected = EXPECTED_ANY;
              break;
            default:
              throw rpcError(grpc.status.INVALID_ARGUMENT, 'expected stream position is required');
          }
          const identifier = o.getStreamIdentifier();
          pending.set(key, { stream: streamNameOf(identifier), expected, events: [], size: 0, identifier: identifier! });
        }
        const write = pending.get(key);
        if (!write) return; // ESDB ignores chunks of unknown writes
        for (const m of req.getProposedMessagesList()) {
          const proposed = proposedFrom(m);
          write.size += sizeOnDisk(proposed);
          write.events.push(proposed);
        }
        const base = () => new BatchAppendResp().setCorrelationId(correlation).setStreamIdentifier(write.identifier);
        if (write.size > serviceOptions.maxAppendSize) {
          pending.delete(key);
          const status = new RpcStatus()
            .setCode(Code.INVALID_ARGUMENT)
            .setMessage('MaximumAppendSizeExceeded')
            .setDetails(packed(new MaximumAppendSizeExceeded().setMaxappendsize(serviceOptions.maxAppendSize), 'event_store.client.MaximumAppendSizeExceeded'));
          return send(base().setError(status));
        }
        if (!req.getIsFinal()) return;
        pending.delete(key);
        const outcome = store.append(write.stream, write.expected, write.events);
        if (outcome.kind === 'success') {
          const success = new BatchAppendResp.Success();
          if (outcome.currentRevision < 0n) success.setNoStream(new WktEmpty());
          else success.setCurrentRevision(outcome.currentRevision.toString());
          if (outcome.position.commit < 0n) success.setNoPosition(new WktEmpty());
          else
            success.setPosition(
              new AllStreamPosition().setCommitPosition(outcome.position.commit.toString()).setPreparePosition(outcome.position.prepare.toString()),
            );
          return send(base().setSuccess(success));
        }
        if (outcome.kind === 'stream_deleted') {
          const status = new RpcStatus()
            .setCode(Code.NOT_FOUND)
            .setMessage('StreamDeleted')
            .setDetails(packed(new StreamDeleted().setStreamIdentifier(write.identifier), 'event_store.client.StreamDeleted'));
          return send(base().setError(status));
        }
        // WrongExpectedVersion.Create(current, expected) (src/EventStore.Core/Services/Transport/Grpc/WrongExpectedVersion.cs)
        const details = new SharedWrongExpectedVersion();
        if (outcome.currentRevision < 0n) details.setCurrentNoStream(new WktEmpty());
        else details.setCurrentStreamRevision(outcome.currentRevision.toString());
        if (write.expected === EXPECTED_ANY) details.setExpectedAny(new WktEmpty());
        else if (write.expected === EXPECTED_STREAM_EXISTS) details.setExpectedStreamExists(new WktEmpty());
        else if (write.expected === EXPECTED_NO_STREAM) details.setExpectedNoStream(new WktEmpty());
        else details.setExpectedStreamPosition(write.expected.toString());
        const status = new RpcStatus()
          .setCode(Code.ALREADY_EXISTS)
          .setMessage('WrongExpectedVersion')
          .setDetails(packed(details, 'event_store.client.WrongExpectedVersion'));
        send(base().setError(status));
      } catch (error) {
        // BatchAppendWorker.Receive: an exception answers that write with BadRequest.
        pending.delete(key);
        const status = new RpcStatus().setCode(Code.INVALID_ARGUMENT).setMessage((error as Error).message);
        send(new BatchAppendResp().setCorrelationId(correlation).setError(status));
      }
    });
    call.on('end', () => {
      if (!gone) call.end();
    });
  };

  function expectedFromDeleteOptions(o: DeleteReq.Options | TombstoneReq.Options): ExpectedVersion {
    // Both oneofs number their cases alike: revision = 2, no_stream = 3, any = 4, stream_exists = 5.
    switch (o.getExpectedStreamRevisionCase() as number) {
      case 2:
        return BigInt(o.getRevision());
      case 3:
        return EXPECTED_NO_STREAM;
      case 4:
        return EXPECTED_ANY;
      case 5:
        return EXPECTED_STREAM_EXISTS;
      default:
        throw rpcError(grpc.status.INVALID_ARGUMENT, 'expected stream revision is required');
    }
  }

  /** Streams.Delete / Streams.Tombstone (Streams.Delete.cs): position of the delete record, or errors. */
  function deleting(kind: 'Delete' | 'Tombstone') {
    return (
      call: grpc.ServerUnaryCall<DeleteReq | TombstoneReq, DeleteResp | TombstoneResp>,
      callback: grpc.sendUnaryData<DeleteResp | TombstoneResp>,
    ) => {
      count(kind);
      try {
        const o = call.request.getOptions();
        if (!o) throw rpcError(grpc.status.INVALID_ARGUMENT, 'options are required');
        const stream = streamNameOf(o.getStreamIdentifier());
        const expected = expectedFromDeleteOptions(o);
        const outcome = kind === 'Delete' ? store.softDelete(stream, expected) : store.tombstone(stream, expected);
        if (outcome.kind === 'stream_deleted') return callback(streamDeletedError(stream));
        if (outcome.kind === 'wrong_expected_version') {
          return callback(wrongExpectedVersionError(kind, stream, expected, outcome.currentRevision));
        }
        const commit = outcome.position.commit.toString();
        const prepare = outcome.position.prepare.toString();
        if (kind === 'Delete') {
          callback(null, new DeleteResp().setPosition(new DeleteResp.Position().setCommitPosition(commit).setPreparePosition(prepare)));
        } else {
          callback(null, new TombstoneResp().setPosition(new TombstoneResp.Position().setCommitPosition(commit).setPreparePosition(prepare)));
        }
      } catch (error) {
        callback(error as grpc.ServiceError);
      }
    };
  }

  /** Streams.Read: stream / $all reads and subscriptions (Streams.Read.cs CreateEnumerator). */
  const read: grpc.handleServerStreamingCall<ReadReq, ReadResp> = (call) => {
    count('Read');
    const writer = new CallWriter(call);
    const options = call.request.getOptions();
    const run = async () => {
      if (!options) throw rpcError(grpc.status.INVALID_ARGUMENT, 'options are required');
      if (!options.hasUuidOption()) throw rpcError(grpc.status.INVALID_ARGUMENT, "Required argument 'uuidOption' is missing");
      const structured = options.getUuidOption()!.hasStructured();
      const subscription = options.hasSubscription();
      const backwards = options.getReadDirection() === ReadReq.Options.ReadDirection.BACKWARDS;
      if (options.hasStream()) {
        if (options.hasFilter()) throw rpcError(grpc.status.INVALID_ARGUMENT, 'The combination of stream and filter is invalid.');
        if (subscription) {
          if (backwards) throw rpcError(grpc.status.INVALID_ARGUMENT, 'The combination of subscription and backwards is invalid.');
          return subscribeToStream(writer, options, structured);
        }
        return readStream(writer, options, structured, backwards);
      }
      if (options.hasAll()) {
        if (subscription) {
          if (backwards) throw rpcError(grpc.status.INVALID_ARGUMENT, 'The combination of subscription and backwards is invalid.');
          return subscribeToAll(writer, options, structured);
        }
        return readAll(writer, options, structured, backwards);
      }
      throw rpcError(grpc.status.INVALID_ARGUMENT, 'either a stream or $all must be given');
    };
    run().then(
      () => writer.end(),
      (error: grpc.ServiceError) => writer.fail(error.code === undefined ? rpcError(grpc.status.UNKNOWN, String(error.message ?? error)) : error),
    );
  };

  async function readStream(writer: CallWriter, options: ReadReq.Options, structured: boolean, backwards: boolean): Promise<void> {
    const so = options.getStream()!;
    const stream = streamNameOf(so.getStreamIdentifier());
    const maxCount = BigInt(options.getCount() || '0');
    let result;
    if (backwards) {
      // Enumerator.ReadStreamBackwards: from END (the last event) or from a revision, inclusive.
      const from = so.hasRevision() ? BigInt(so.getRevision()) : so.hasStart() ? 0n : 'end';
      result = store.readStreamBackwards(stream, from, maxCount);
    } else {
      const from = so.hasRevision() ? BigInt(so.getRevision()) : so.hasEnd() ? DELETED_STREAM : 0n;
      result = store.readStreamForwards(stream, from, maxCount);
    }
    // Enumerator.ReadStreamForwards: NoStream → a `stream_not_found` message and a normal end;
    // StreamDeleted → the RPC fails with RpcExceptions.StreamDeleted.
    if (result.kind === 'no_stream') {
      await writer.write(new ReadResp().setStreamNotFound(new ReadResp.StreamNotFound().setStreamIdentifier(identifierOf(stream))));
      return;
    }
    if (result.kind === 'stream_deleted') throw streamDeletedError(stream);
    for (const e of result.events) if (!(await writer.write(eventResp(e, structured)))) return;
  }

  async function readAll(writer: CallWriter, options: ReadReq.Options, structured: boolean, backwards: boolean): Promise<void> {
    const ao = options.getAll()!;
    const maxCount = BigInt(options.getCount() || '0');
    const { filter } = filterOf(options);
    let sent = 0n;
    if (!backwards) {
      // ReadAllForwards: inclusive of the position (AllReader "TFPos >= pos"); START = 0; END = nothing.
      let i = ao.hasPosition() ? (() => {
        const p = readPosition(ao.getPosition()!);
        return p === 'end' ? store.log.length : store.indexOfFirstAtOrAfter(p);
      })() : ao.hasEnd() ? store.log.length : 0;
      for (; i < store.log.length && sent < maxCount; i++) {
        const e = store.log[i];
        if (!matchesFilter(filter, e)) continue;
        if (!(await writer.write(eventResp(e, structured)))) return;
        sent++;
      }
      return;
    }
    // ReadAllBackwards: exclusive of the position (AllReader "TFPos < pos"); END = from the last.
    let i = ao.hasPosition() ? store.indexOfLastBefore(readPosition(ao.getPosition()!)) : ao.hasStart() ? -1 : store.log.length - 1;
    for (; i >= 0 && sent < maxCount; i--) {
      const e = store.log[i];
      if (!matchesFilter(filter, e)) continue;
      if (!(await writer.write(eventResp(e, structured)))) return;
      sent++;
    }
  }

  /** Registers a pump with the store's write notifications for as long as the call lives. */
  function onWrites(writer: CallWriter): () => void {
    const unsubscribe = store.onWrite(() => writer.wake());
    const kill = () => writer.wake();
    liveCalls.add(kill);
    stats.openSubscriptions++;
    return () => {
      unsubscribe();
      liveCalls.delete(kill);
      stats.openSubscriptions--;
    };
  }

  const confirmation = () =>
    new ReadResp().setConfirmation(new ReadResp.SubscriptionConfirmation().setSubscriptionId(randomUUID()));
  const caughtUp = () => new ReadResp().setCaughtUp(new ReadResp.CaughtUp());

  /**
   * Subscription to $all (Enumerators.AllSubscription / AllSubscriptionFiltered):
   * - the confirmation is the first message;
   * - from START: everything; from END: live only;
   * - from a position: the server reads ONE event at-or-after that position and catches up from the
   *   position after it (`ReadAllEventsForward(pos, 1)` → `CatchUp(NextPos)`), i.e. the start is
   *   exclusive when it is an event's position;
   * - `caught_up` once the historical events are out, then live events in log order;
   * - filtered: checkpoints every `multiplier × window` considered events (window = filter max, or
   *   ReadBatchSize 32 when the client asks for `count`).
   * Deviations: a slow consumer is back-pressured (ESDB drops it with "Consumer too slow"), and a
   * checkpoint carries the position of the event that completed the interval.
   */
  async function subscribeToAll(writer: CallWriter, options: ReadReq.Options, structured: boolean): Promise<void> {
    const ao = options.getAll()!;
    const { filter, checkpointInterval } = filterOf(options);
    const release = onWrites(writer);
    try {
      let cursor: number;
      let minimum: TfPos | undefined;
      if (ao.hasEnd()) cursor = store.log.length;
      else if (ao.hasPosition()) {
        const p = readPosition(ao.getPosition()!);
        if (p === 'end') cursor = store.log.length;
        else {
          const at = store.indexOfFirstAtOrAfter(p);
          cursor = at < store.log.length ? at + 1 : store.log.length;
          minimum = p;
        }
      } else cursor = 0;
      if (!(await writer.write(confirmation()))) return;
      let considered = 0;
      let live = false;
      for (;;) {
        while (cursor < store.log.length) {
          const e = store.log[cursor++];
          if (minimum && comparePos(positionOf(e), minimum) < 0) continue;
          if (matchesFilter(filter, e)) {
            if (!(await writer.write(eventResp(e, structured)))) return;
          }
          if (filter && checkpointInterval > 0 && ++considered >= checkpointInterval) {
            considered = 0;
            const checkpoint = new ReadResp.Checkpoint().setCommitPosition(e.logPosition.toString()).setPreparePosition(e.logPosition.toString());
            if (!(await writer.write(new ReadResp().setCheckpoint(checkpoint)))) return;
          }
        }
        if (!live) {
          live = true;
          if (serviceOptions.sendCaughtUp && !(await writer.write(caughtUp()))) return;
        }
        if (writer.isGone) return;
        await writer.waitForWake();
        if (writer.isGone) return;
      }
    } finally {
      release();
    }
  }

  /**
   * Subscription to a stream (Enumerators.StreamSubscription): confirmation first; from a revision R
   * it catches up from R+1 (exclusive) and skips anything <= R; START = 0; END = live only. A missing
   * (or soft-deleted) stream keeps the subscription waiting (ESDB polls every 50 ms) without
   * `caught_up` until events arrive; a tombstone (`$streamDeleted`) ends it with StreamDeleted.
   */
  async function subscribeToStream(writer: CallWriter, options: ReadReq.Options, structured: boolean): Promise<void> {
    const so = options.getStream()!;
    const stream = streamNameOf(so.getStreamIdentifier());
    const release = onWrites(writer);
    try {
      let next: bigint; // the next revision to deliver
      let live = false;
      if (so.hasEnd()) {
        const view = store.streamView(stream);
        if (view.kind === 'stream_deleted') throw streamDeletedError(stream);
        next = store.lastEventNumber(stream) + 1n;
        if (!(await writer.write(confirmation()))) return;
        live = true;
        if (serviceOptions.sendCaughtUp && !(await writer.write(caughtUp()))) return;
      } else {
        next = so.hasRevision() ? BigInt(so.getRevision()) + 1n : 0n;
        if (!(await writer.write(confirmation()))) return;
      }
      for (;;) {
        const view = store.streamView(stream);
        if (view.kind === 'stream_deleted') throw streamDeletedError(stream);
        if (view.kind === 'success') {
          for (const e of view.events) {
            if (e.revision < next) continue;
            if (!(await writer.write(eventResp(e, structured)))) return;
            next = e.revision + 1n;
          }
          if (!live) {
            live = true;
            if (serviceOptions.sendCaughtUp && !(await writer.write(caughtUp()))) return;
          }
        }
        if (writer.isGone) return;
        await writer.waitForWake();
        if (writer.isGone) return;
      }
    } finally {
      release();
    }
  }


  const implementation: streamsGrpc.IStreamsServer = {
    read,
    append,
    delete: deleting('Delete') as grpc.handleUnaryCall<DeleteReq, DeleteResp>,
    tombstone: deleting('Tombstone') as grpc.handleUnaryCall<TombstoneReq, TombstoneResp>,
    batchAppend,
  };
  return implementation;
}

/**
 * ServerFeatures.GetSupportedMethods (ServerFeatures.cs): every client-facing method, lower-cased,
 * with features: Read → "position", "events"; BatchAppend → "deadline_duration". The client uses
 * BatchAppend for appends when it is listed (dist/streams/appendToStream/index.js).
 */
export function createServerFeaturesService(options: ServiceOptions, stats: CallStats): featuresGrpc.IServerFeaturesServer {
  return {
    getSupportedMethods: (_call, callback) => {
      stats.calls.GetSupportedMethods = (stats.calls.GetSupportedMethods ?? 0) + 1;
      const service = 'event_store.client.streams.streams';
      const methods: Array<[string, string, string[]]> = [
        [service, 'read', ['position', 'events']],
        [service, 'append', []],
        [service, 'delete', []],
        [service, 'tombstone', []],
        ['event_store.client.server_features.serverfeatures', 'getsupportedmethods', []],
      ];
      if (options.advertiseBatchAppend) methods.push([service, 'batchappend', ['deadline_duration']]);
      const response = new SupportedMethods().setEventStoreServerVersion(options.serverVersion);
      for (const [serviceName, methodName, features] of methods) {
        response.addMethods(new SupportedMethod().setServiceName(serviceName).setMethodName(methodName).setFeaturesList(features));
      }
      callback(null, response);
    },
  };
}

export const StreamsService = streamsGrpc.StreamsService;
export const ServerFeaturesService = featuresGrpc.ServerFeaturesService;
