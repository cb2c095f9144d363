export type Role = 'reporter' | 'editor' | 'fact_checker' | 'admin';

export interface Actor {
  id: string;
  name: string;
  roles: Role[];
}

/** Who issued a command and when; deciders never read the clock themselves. */
export interface CommandMetadata {
  actor: Actor;
  /** ISO-8601 */
  now: string;
}
