import { performance } from 'node:perf_hooks'
import fc from 'fast-check'

// Seeded, replayable property runs for the *.fuzz.test.ts suites. The normal suite runs a small
// budget with a fixed seed (deterministic, fast); a longer or different run comes from the
// environment:
//   FUZZ_RUNS=1500 node --test dist/relay/relay.fuzz.test.js     more cases for every property
//   FUZZ_SEED=123 FUZZ_PATH=4:0 node --test --test-name-pattern='<test>' dist/...
//                                                                 replays a reported failure
// A failure names both, so it can be replayed exactly (the pattern keeps FUZZ_PATH to the one
// property it belongs to).

const DEFAULT_SEED = 20261202

export interface FuzzRun {
  seed: number
  /** The runs a property gets: FUZZ_RUNS when set, else the property's own small budget. */
  numRuns: number
  path: string | undefined
}

function envInt(name: string): number | undefined {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return undefined
  const n = Number(raw)
  if (!Number.isInteger(n)) throw new Error(`${name}=${raw} is not an integer`)
  return n
}

export function fuzzRun(defaultRuns: number): FuzzRun {
  const runs = envInt('FUZZ_RUNS')
  return {
    seed: envInt('FUZZ_SEED') ?? DEFAULT_SEED,
    numRuns: runs !== undefined && runs > 0 ? runs : defaultRuns,
    path: process.env.FUZZ_PATH || undefined,
  }
}

/**
 * Checks a property (sync or async) under the seed and budget above. On failure it throws with
 * the replay line first, then fast-check's report (counterexample, shrunk) and the cause.
 */
export async function fuzz<Ts>(
  name: string,
  property: fc.IAsyncProperty<Ts> | fc.IProperty<Ts>,
  defaultRuns: number,
): Promise<void> {
  const run = fuzzRun(defaultRuns)
  const params: fc.Parameters<Ts> = { seed: run.seed, numRuns: run.numRuns }
  if (run.path) params.path = run.path
  const details = await fc.check(property as fc.IRawProperty<Ts>, params)
  if (!details.failed) return
  const replay = `FUZZ_SEED=${details.seed} FUZZ_PATH=${details.counterexamplePath ?? ''}`
  const report = fc.defaultReportMessage(details) ?? ''
  throw new Error(`${name} failed; replay with ${replay}\n${report}`, {
    cause: details.errorInstance,
  })
}

/** Runs `fn` and throws when it takes longer than `maxMs` (a parser that blocks the loop). */
export function withinMs<T>(what: string, maxMs: number, fn: () => T): T {
  const started = performance.now()
  const out = fn()
  const ms = performance.now() - started
  if (ms > maxMs) throw new Error(`${what} took ${ms.toFixed(0)} ms (limit ${maxMs} ms)`)
  return out
}

/** Watches the event loop with a timer; `maxGapMs()` is the longest it went without a turn. */
export function watchEventLoop(intervalMs = 10): { maxGapMs(): number; stop(): void } {
  let last = performance.now()
  let max = 0
  const timer = setInterval(() => {
    const t = performance.now()
    max = Math.max(max, t - last - intervalMs)
    last = t
  }, intervalMs)
  return {
    maxGapMs: () => max,
    stop: () => clearInterval(timer),
  }
}

/** Strings that break naive code: lone surrogates, NUL, control and bidi characters, emoji. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom(
    '',
    '\uD800',
    'a\uDC00b',
    '\uDBFF\uDFFF\uD83D',
    '\u0000',
    '\r\n',
    '\u202E',
    '"}]{',
    '\\',
    '%E0%A4%A',
    '🔴'.repeat(50),
    '__proto__',
    'constructor',
  ),
)

/** JSON-ish values with hostile strings, nested up to a few levels. */
export const hostileJson: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    hostileString,
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(hostileString, tie('v'), { maxKeys: 4 }),
  ),
})).v

/** A deeply nested JSON array or object as text (`depth` levels), for parsers' stack limits. */
export function deepJson(depth: number, kind: 'array' | 'object' = 'array'): string {
  return kind === 'array'
    ? `${'['.repeat(depth)}${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`
}

type Edit =
  | { op: 'insert'; at: number; text: string }
  | { op: 'cut'; at: number; length: number }
  | { op: 'repeat'; at: number; times: number }

function applyEdits(text: string, edits: readonly Edit[], maxGrowth: number): string {
  let t = text
  for (const e of edits) {
    const at = e.at % (t.length + 1)
    if (e.op === 'insert') t = t.slice(0, at) + e.text + t.slice(at)
    else if (e.op === 'cut') t = t.slice(0, at) + t.slice(at + e.length)
    else {
      const start = t.lastIndexOf('\n', at) + 1
      const end = t.indexOf('\n', at)
      const line = t.slice(start, end === -1 ? t.length : end + 1)
      // At most about maxGrowth more: the point is many lines, not an out-of-memory in the test.
      const times = Math.min(e.times, Math.ceil(maxGrowth / (line.length + 1)))
      t = t.slice(0, start) + line.repeat(times) + t.slice(start)
    }
  }
  return t
}

/** One of `bases` with a few edits: `inserts` or hostile strings put in, ranges cut, a line
 * repeated up to 500 times (adding at most `maxGrowth` characters each time). */
export function mutatedText(
  bases: readonly string[],
  inserts: readonly string[],
  maxGrowth = 1_000_000,
): fc.Arbitrary<string> {
  const edit: fc.Arbitrary<Edit> = fc.oneof(
    fc.record({
      op: fc.constant('insert' as const),
      at: fc.nat(),
      text: inserts.length ? fc.oneof(hostileString, fc.constantFrom(...inserts)) : hostileString,
    }),
    fc.record({ op: fc.constant('cut' as const), at: fc.nat(), length: fc.nat({ max: 400 }) }),
    fc.record({
      op: fc.constant('repeat' as const),
      at: fc.nat(),
      times: fc.integer({ min: 2, max: 500 }),
    }),
  )
  return fc
    .tuple(fc.constantFrom(...bases), fc.array(edit, { minLength: 1, maxLength: 5 }))
    .map(([text, edits]) => applyEdits(text, edits, maxGrowth))
}
