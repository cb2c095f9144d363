import type { CommandMetadata } from '../actor';
import { DomainError } from '../domain-error';

export const sourceStream = (id: string): string => `source-${id}`;

export type SourceKind = 'person' | 'organization' | 'document' | 'wire';

// ──────────────────────────────────────────────────────────────────── events ──

export type SourceRegistered = {
  type: 'SourceRegistered';
  data: { sourceId: string; name: string; kind: SourceKind; title: string | null; organization: string | null };
};
/** Carries only the fields that changed; `title`/`organization` may change to null. */
export type SourceUpdated = {
  type: 'SourceUpdated';
  data: { name?: string; title?: string | null; organization?: string | null };
};

export type SourceEvent = SourceRegistered | SourceUpdated;

export const SOURCE_EVENT_TYPES: readonly SourceEvent['type'][] = Object.freeze(['SourceRegistered', 'SourceUpdated']);

// ────────────────────────────────────────────────────────────────── commands ──

export type RegisterSource = {
  type: 'RegisterSource';
  data: { sourceId: string; name: string; kind: SourceKind; title?: string | null; organization?: string | null };
  metadata: CommandMetadata;
};
export type UpdateSource = {
  type: 'UpdateSource';
  data: { name?: string; title?: string | null; organization?: string | null };
  metadata: CommandMetadata;
};

export type SourceCommand = RegisterSource | UpdateSource;

// ───────────────────────────────────────────────────────────────────── state ──

export type NoSource = { status: 'none' };
export type RegisteredSource = {
  status: 'registered';
  id: string;
  name: string;
  kind: SourceKind;
  title: string | null;
  organization: string | null;
};
export type SourceState = NoSource | RegisteredSource;

export const initialState = (): SourceState => ({ status: 'none' });

// ──────────────────────────────────────────────────────────────────── evolve ──

/**
 * The version of the source state as `evolve` builds it, carried by stored snapshots: bump it when
 * evolve or the state changes (see ARTICLE_SNAPSHOT_VERSION; test/unit/snapshot-version.spec.ts).
 */
export const SOURCE_SNAPSHOT_VERSION = '1';

export function evolve(state: SourceState, event: SourceEvent): SourceState {
  switch (event.type) {
    case 'SourceRegistered': {
      if (state.status !== 'none') return state;
      const { sourceId, name, kind, title, organization } = event.data;
      return { status: 'registered', id: sourceId, name, kind, title, organization };
    }
    case 'SourceUpdated': {
      if (state.status === 'none') return state;
      const { name, title, organization } = event.data;
      return {
        ...state,
        name: name ?? state.name,
        title: title === undefined ? state.title : title,
        organization: organization === undefined ? state.organization : organization,
      };
    }
    default:
      return unreachable(event);
  }
}

// ──────────────────────────────────────────────────────────────────── decide ──

export function decide(command: SourceCommand, state: SourceState): SourceEvent[] {
  switch (command.type) {
    case 'RegisterSource':
      return registerSource(command, state);
    case 'UpdateSource':
      return updateSource(command, state);
    default:
      return unreachable(command);
  }
}

function registerSource({ data }: RegisterSource, state: SourceState): SourceEvent[] {
  if (state.status !== 'none') {
    throw new DomainError('source-exists', `Source ${data.sourceId} already exists`);
  }
  return [
    {
      type: 'SourceRegistered',
      data: {
        sourceId: data.sourceId,
        name: data.name,
        kind: data.kind,
        title: data.title ?? null,
        organization: data.organization ?? null,
      },
    },
  ];
}

function updateSource({ data }: UpdateSource, state: SourceState): SourceEvent[] {
  if (state.status === 'none') {
    throw new DomainError('source-not-found', 'Source not found');
  }
  const changes: SourceUpdated['data'] = {};
  if (data.name !== undefined && data.name !== state.name) changes.name = data.name;
  if (data.title !== undefined && data.title !== state.title) changes.title = data.title;
  if (data.organization !== undefined && data.organization !== state.organization) {
    changes.organization = data.organization;
  }
  if (Object.keys(changes).length === 0) return [];
  return [{ type: 'SourceUpdated', data: changes }];
}

function unreachable(value: never): never {
  throw new Error(`Unhandled source message: ${JSON.stringify(value)}`);
}

export const decider = { name: 'source', snapshotVersion: SOURCE_SNAPSHOT_VERSION, decide, evolve, initialState };
export const sourceDecider = decider;
