// A small mutation engine over JSON-like values, for the agent's hostile-hub fuzz tests: take a
// valid answer, then delete, replace or add fields anywhere in it (or replace it whole) with
// hostile values (wrong types, huge strings and arrays, path-like text, prototype keys).
import fc from 'fast-check';

export type Path = (string | number)[];
export function pathsOf(v: unknown, at: Path = [], out: Path[] = []): Path[] {
  if (at.length) out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => pathsOf(x, [...at, i], out));
  else if (v && typeof v === 'object') for (const k of Object.keys(v)) pathsOf((v as Record<string, unknown>)[k], [...at, k], out);
  return out;
}
const get = (v: unknown, p: Path): unknown => p.reduce<unknown>((acc, k) => (acc as Record<string | number, unknown>)[k], v);
export interface Mutation {
  op: 'delete' | 'set' | 'extra' | 'root';
  at: number;
  key: string;
  value: unknown;
}
export function mutate(template: unknown, muts: Mutation[]): unknown {
  let doc = structuredClone(template);
  for (const m of muts) {
    const paths = pathsOf(doc);
    if (m.op === 'root' || paths.length === 0) {
      doc = m.value;
      continue;
    }
    if (m.op === 'extra') {
      const objs = [[] as Path, ...paths].filter((p) => {
        const v = get(doc, p);
        return v !== null && typeof v === 'object' && !Array.isArray(v);
      });
      const target = objs[m.at % Math.max(objs.length, 1)];
      if (target) (get(doc, target) as Record<string, unknown>)[m.key] = m.value;
      continue;
    }
    const p = paths[m.at % paths.length]!;
    const parent = get(doc, p.slice(0, -1)) as Record<string | number, unknown>;
    const last = p[p.length - 1]!;
    if (m.op === 'delete') delete parent[last];
    else parent[last] = m.value;
  }
  return doc;
}

export const hostileScalar: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    null, undefined, true, false, 0, -1, -0, 1.5, NaN, Infinity, -Infinity, 2 ** 53, 2 ** 53 + 2, -(2 ** 64), Number.MAX_VALUE, 10n, '', ' ', '0', 'NaN',
    '\u0000', 'a\u0000b', '\u202e', '😀', '\ud800', '../../etc/passwd', '__proto__', [], {}, [null], { __proto__: null },
  ),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.integer(),
  fc.double(),
  fc.jsonValue({ maxDepth: 2 }),
  fc.integer({ min: 1000, max: 300_000 }).map((n) => 'x'.repeat(n)),
  fc.integer({ min: 100, max: 50_000 }).map((n) => Array.from({ length: n }, () => 0)),
);
export const mutation = (values: fc.Arbitrary<unknown>): fc.Arbitrary<Mutation> =>
  fc.record({
    op: fc.constantFrom<Mutation['op']>('delete', 'set', 'set', 'set', 'extra', 'root'),
    at: fc.nat(),
    key: fc.oneof(fc.constantFrom('__proto__', 'constructor', 'extra', '', 'hub', 'address'), fc.string({ maxLength: 10 })),
    value: values,
  });
