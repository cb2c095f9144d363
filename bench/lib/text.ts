/** Deterministic newsroom-ish text: bodies, the sentences that can be quoted from them, topics. */

export type Random = () => number;

/** mulberry32: small, fast, seedable. */
export function rng(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)];

const WORDS = (
  'council mayor bridge budget vote residents river school district hospital water plan road transit housing ' +
  'report police court hearing minister election campaign tax park library funding contract inquiry witness ' +
  'evidence statement spokesperson official agency safety storm flood recovery project delay cost audit'
).split(' ');

const TOPIC_WORDS = 'Local Politics Infrastructure Health Education Climate Transport Housing Courts Economy Culture Science Sport Energy Water'.split(' ');
export const TOPICS: readonly string[] = TOPIC_WORDS.flatMap((a) => TOPIC_WORDS.filter((b) => b !== a).slice(0, 7).map((b) => `${a} ${b}`));
export const SPEAKERS: readonly string[] = ['Jane Doe', 'Ahmed Khan', 'Maria Rossi', 'Wei Zhang', 'Olu Adeyemi', 'Sara Lind', 'Tom Berg'];

function sentence(random: Random): string {
  const words = Array.from({ length: 8 + Math.floor(random() * 10) }, () => pick(random, WORDS));
  words[0] = words[0][0].toUpperCase() + words[0].slice(1);
  return `${words.join(' ')}.`;
}

export interface Body {
  body: string;
  /** Sentences that appear verbatim in the body: what a quote can be. */
  sentences: string[];
}

/** About 3 KB in eight paragraphs, as a short news story. */
export function articleBody(random: Random, paragraphs = 8): Body {
  const sentences: string[] = [];
  const parts: string[] = [];
  for (let p = 0; p < paragraphs; p++) {
    const these = Array.from({ length: 3 + Math.floor(random() * 3) }, () => sentence(random));
    sentences.push(...these);
    parts.push(these.join(' '));
  }
  return { body: parts.join('\n\n'), sentences };
}

export const headline = (random: Random): string => sentence(random).slice(0, 120);
export const claimText = (random: Random): string => sentence(random);
