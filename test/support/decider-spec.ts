import { DomainError, type DomainErrorType } from '../../src/newsroom/domain-error';

export interface Decider<Command, Event, State> {
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
  initialState(): State;
}

/**
 * given(events).when(command).then(events) for deciders. `then` also folds the produced events, so a
 * decided event that `evolve` cannot apply fails the spec too.
 */
export const DeciderSpec = {
  for<Command, Event, State>(decider: Decider<Command, Event, State>) {
    const fold = (events: Event[]): State => events.reduce(decider.evolve, decider.initialState());

    return {
      given(events: Event[] = []) {
        return {
          state: (): State => fold(events),

          when(command: Command) {
            const run = (): Event[] => decider.decide(command, fold(events));

            return {
              then(expected: Event[]): State {
                const produced = run();
                expect(produced).toStrictEqual(expected);
                return fold([...events, ...produced]);
              },

              thenNothingHappened(): void {
                expect(run()).toStrictEqual([]);
              },

              thenThrows(type: DomainErrorType): DomainError {
                let caught: unknown;
                try {
                  const produced = run();
                  caught = new Error(`expected ${type} but decided ${JSON.stringify(produced)}`);
                } catch (error) {
                  caught = error;
                }
                if (!(caught instanceof DomainError)) throw caught;
                expect(caught.type).toBe(type);
                return caught;
              },
            };
          },
        };
      },
    };
  },
};
