import fc from 'fast-check';
import { bodyShapeError, jsonTextShape } from '../../src/http/body-shape';

/** The oracle: depth and values of the parsed value, counted by walking it. */
function walked(value: unknown): { depth: number; values: number } {
  if (value === null || typeof value !== 'object') return { depth: 0, values: 1 };
  const children = Object.values(value as object).map(walked);
  return { depth: 1 + Math.max(0, ...children.map((c) => c.depth)), values: 1 + children.reduce((n, c) => n + c.values, 0) };
}

describe('the shape of a JSON text, read without parsing it', () => {
  it('counts the depth and values that parsing and walking the text would (any JSON, any spacing)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.constantFrom(0, 2), (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        expect(jsonTextShape(Buffer.from(text), { depth: Infinity, values: Infinity })).toEqual(walked(JSON.parse(text)));
      }),
      { numRuns: 500 },
    );
  });

  it('is not fooled by punctuation, escapes and non-ASCII text inside strings', () => {
    const text = JSON.stringify({ a: '{[,:]} \\" \\\\', b: ['x,y', '"', '\\', '\\\\"'], 'k:,[': [[], {}, [1]], 'é“”': 'ü:,[' });
    expect(jsonTextShape(Buffer.from(text), { depth: Infinity, values: Infinity })).toEqual(walked(JSON.parse(text)));
  });

  it('refuses more than 1000 values or 32 levels, naming the body', () => {
    expect(bodyShapeError(Buffer.from(JSON.stringify(Array(999).fill(0))))).toBeUndefined();
    expect(bodyShapeError(Buffer.from(JSON.stringify(Array(1000).fill(0))))).toEqual({ field: '(body)', message: 'the body must not hold more than 1000 values' });
    expect(bodyShapeError(Buffer.from(`${'['.repeat(32)}${']'.repeat(32)}`))).toBeUndefined();
    expect(bodyShapeError(Buffer.from(`${'['.repeat(33)}${']'.repeat(33)}`))).toEqual({ field: '(body)', message: 'the body must not nest deeper than 32 levels' });
  });

  it('gives up as soon as a limit is passed', () => {
    const hostile = JSON.stringify(Object.fromEntries(Array.from({ length: 80_000 }, (_, i) => [`p${i}`, 0])));
    expect(jsonTextShape(Buffer.from(hostile)).values).toBe(1001);
  });
});
