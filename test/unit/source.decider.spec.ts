import type { Actor } from '../../src/newsroom/actor';
import {
  type SourceCommand,
  type SourceEvent,
  decider,
  sourceStream,
} from '../../src/newsroom/source/source.decider';
import { DeciderSpec } from '../support/decider-spec';

const actor: Actor = { id: 'u-checker', name: 'Fay Checker', roles: ['fact_checker'] };
const metadata = { actor, now: '2025-03-01T09:00:00.000Z' };

const register = (data: Extract<SourceCommand, { type: 'RegisterSource' }>['data']): SourceCommand => ({
  type: 'RegisterSource',
  data,
  metadata,
});
const update = (data: Extract<SourceCommand, { type: 'UpdateSource' }>['data']): SourceCommand => ({
  type: 'UpdateSource',
  data,
  metadata,
});

const registered: SourceEvent = {
  type: 'SourceRegistered',
  data: { sourceId: 's1', name: 'Jo Mayor', kind: 'person', title: 'Mayor', organization: 'City Hall' },
};

const spec = DeciderSpec.for(decider);

describe('source decider', () => {
  it('names its stream source-<id>', () => {
    expect(sourceStream('s1')).toBe('source-s1');
  });

  describe('RegisterSource', () => {
    it('registers a source', () => {
      const state = spec
        .given([])
        .when(register({ sourceId: 's1', name: 'Jo Mayor', kind: 'person', title: 'Mayor', organization: 'City Hall' }))
        .then([registered]);
      expect(state).toEqual({
        status: 'registered',
        id: 's1',
        name: 'Jo Mayor',
        kind: 'person',
        title: 'Mayor',
        organization: 'City Hall',
      });
    });

    it('records a missing title and organization as null', () => {
      spec
        .given([])
        .when(register({ sourceId: 's2', name: 'Reuters', kind: 'wire' }))
        .then([
          {
            type: 'SourceRegistered',
            data: { sourceId: 's2', name: 'Reuters', kind: 'wire', title: null, organization: null },
          },
        ]);
    });

    it('refuses a source that exists', () => {
      spec
        .given([registered])
        .when(register({ sourceId: 's1', name: 'Someone', kind: 'person' }))
        .thenThrows('source-exists');
    });
  });

  describe('UpdateSource', () => {
    it('records only the fields that change', () => {
      const state = spec
        .given([registered])
        .when(update({ name: 'Jo Mayor', title: 'Former mayor', organization: 'City Hall' }))
        .then([{ type: 'SourceUpdated', data: { title: 'Former mayor' } }]);
      expect(state).toMatchObject({ name: 'Jo Mayor', title: 'Former mayor', organization: 'City Hall' });
    });

    it('changes the name', () => {
      const state = spec
        .given([registered])
        .when(update({ name: 'Joanna Mayor' }))
        .then([{ type: 'SourceUpdated', data: { name: 'Joanna Mayor' } }]);
      expect(state).toMatchObject({ name: 'Joanna Mayor', title: 'Mayor' });
    });

    it('clears title and organization with null', () => {
      const state = spec
        .given([registered])
        .when(update({ title: null, organization: null }))
        .then([{ type: 'SourceUpdated', data: { title: null, organization: null } }]);
      expect(state).toMatchObject({ name: 'Jo Mayor', title: null, organization: null });
    });

    it('does nothing when nothing changes', () => {
      spec.given([registered]).when(update({ name: 'Jo Mayor', title: 'Mayor' })).thenNothingHappened();
      spec.given([registered]).when(update({})).thenNothingHappened();
    });

    it('refuses an unknown source', () => {
      spec.given([]).when(update({ name: 'Anyone' })).thenThrows('source-not-found');
    });

    it('applies successive updates on top of each other', () => {
      const state = spec
        .given([
          registered,
          { type: 'SourceUpdated', data: { title: null } },
          { type: 'SourceUpdated', data: { organization: 'County' } },
        ])
        .state();
      expect(state).toEqual({
        status: 'registered',
        id: 's1',
        name: 'Jo Mayor',
        kind: 'person',
        title: null,
        organization: 'County',
      });
    });
  });
});
