import { AppError } from '../shared/index.js'

// A small strict parser for the Prometheus text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/), tolerant of the OpenMetrics
// bits engines emit through prometheus_client (`# EOF`, `# UNIT`). Used to read engines' /metrics.

export type PromMetricType =
  | 'counter'
  | 'gauge'
  | 'histogram'
  | 'summary'
  | 'untyped'
  | 'unknown'
  | 'gaugehistogram'
  | 'stateset'
  | 'info'

export interface PromSample {
  name: string
  labels: Readonly<Record<string, string>>
  value: number
  timestampMs?: number
}

export interface PromMetadata {
  type?: PromMetricType
  help?: string
}

export interface PromExposition {
  samples: PromSample[]
  /** From `# TYPE` / `# HELP`, keyed by the name on that line. */
  metadata: Map<string, PromMetadata>
}

const TYPES = new Set<string>([
  'counter',
  'gauge',
  'histogram',
  'summary',
  'untyped',
  'unknown',
  'gaugehistogram',
  'stateset',
  'info',
])
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/
const SPECIAL: Record<string, number> = {
  nan: Number.NaN,
  inf: Number.POSITIVE_INFINITY,
  '+inf': Number.POSITIVE_INFINITY,
  '-inf': Number.NEGATIVE_INFINITY,
}

/** Parses exposition text; throws METRICS_PARSE_FAILED naming the first bad line. */
export function parsePrometheusText(text: string): PromExposition {
  const samples: PromSample[] = []
  const metadata = new Map<string, PromMetadata>()
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').replace(/\r$/, '')
    if (line.trim() === '') continue
    try {
      if (line.startsWith('#')) {
        if (line === '# EOF') break
        parseComment(line, metadata)
      } else {
        samples.push(parseSample(line))
      }
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err)
      throw new AppError(
        'METRICS_PARSE_FAILED',
        `line ${i + 1} of the metrics text: ${reason}: ${JSON.stringify(line.slice(0, 120))}`,
        {
          hint: 'the endpoint does not serve Prometheus text; check that the URL is the engine /metrics',
        },
      )
    }
  }
  return { samples, metadata }
}

function parseComment(line: string, metadata: Map<string, PromMetadata>): void {
  const m = /^#\s+(HELP|TYPE|UNIT)\s+(\S+)(?:\s(.*))?$/.exec(line)
  if (!m) return // any other comment is allowed by the format
  const [, keyword, name = '', rest = ''] = m
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new Error(`bad metric name in ${keyword}`)
  const entry = metadata.get(name) ?? {}
  if (keyword === 'TYPE') {
    const type = rest.trim()
    if (!TYPES.has(type)) throw new Error(`unknown metric type "${type}"`)
    if (entry.type) throw new Error(`second TYPE line for ${name}`)
    entry.type = type as PromMetricType
  } else if (keyword === 'HELP') {
    if (entry.help !== undefined) throw new Error(`second HELP line for ${name}`)
    entry.help = rest.replace(/\\(\\|n)/g, (_m, c: string) => (c === 'n' ? '\n' : '\\'))
  }
  metadata.set(name, entry)
}

function parseSample(line: string): PromSample {
  const nameMatch = METRIC_NAME.exec(line)
  if (!nameMatch) throw new Error('expected a metric name')
  const name = nameMatch[0]
  let pos = name.length
  const labels: Record<string, string> = {}
  if (line[pos] === '{') {
    pos = parseLabels(line, pos + 1, labels)
  }
  const rest = line.slice(pos)
  if (!/^[ \t]/.test(rest)) throw new Error('expected a space before the value')
  const fields = rest.trim().split(/[ \t]+/)
  if (fields.length > 2) throw new Error('unexpected text after the timestamp')
  const value = parseValue(fields[0] ?? '')
  const sample: PromSample = { name, labels, value }
  if (fields[1] !== undefined) {
    const ts = Number(fields[1])
    if (!NUMBER.test(fields[1]) || !Number.isFinite(ts)) throw new Error('bad timestamp')
    sample.timestampMs = ts
  }
  return sample
}

/** Parses `name="value",...}` from `pos`; returns the index after `}`. */
function parseLabels(line: string, start: number, labels: Record<string, string>): number {
  let pos = start
  for (;;) {
    while (line[pos] === ' ') pos++
    if (line[pos] === '}') return pos + 1
    const nameMatch = LABEL_NAME.exec(line.slice(pos))
    if (!nameMatch) throw new Error('bad label name')
    const labelName = nameMatch[0]
    pos += labelName.length
    while (line[pos] === ' ') pos++
    if (line[pos] !== '=' || line[pos + 1] !== '"')
      throw new Error(`expected ="..." after ${labelName}`)
    pos += 2
    let value = ''
    for (;;) {
      const c = line[pos]
      if (c === undefined) throw new Error('unterminated label value')
      if (c === '"') break
      if (c === '\\') {
        const next = line[pos + 1]
        if (next === 'n') value += '\n'
        else if (next === '\\' || next === '"') value += next
        else throw new Error('bad escape in label value')
        pos += 2
        continue
      }
      value += c
      pos++
    }
    pos++ // closing quote
    if (Object.hasOwn(labels, labelName)) throw new Error(`duplicate label ${labelName}`)
    labels[labelName] = value
    while (line[pos] === ' ') pos++
    if (line[pos] === ',') {
      pos++
      continue
    }
    if (line[pos] === '}') return pos + 1
    throw new Error('expected , or } in the label set')
  }
}

function parseValue(text: string): number {
  const special = SPECIAL[text.toLowerCase()]
  if (special !== undefined) return special
  if (!NUMBER.test(text)) throw new Error(`bad sample value "${text}"`)
  return Number(text)
}

/** Distinct metric-name prefixes that identify an engine (`vllm:`, `sglang:`, `llamacpp:`, `tgi_`). */
export function detectMetricPrefixes(exposition: PromExposition): string[] {
  const found = new Set<string>()
  for (const s of exposition.samples) {
    const colon = /^([a-zA-Z_]+):/.exec(s.name)
    if (colon?.[1]) found.add(`${colon[1]}:`)
    else if (s.name.startsWith('tgi_')) found.add('tgi_')
  }
  return [...found].sort()
}

/** Samples of one metric name, optionally filtered by exact label values. */
export function findSamples(
  exposition: PromExposition,
  name: string,
  labels: Record<string, string> = {},
): PromSample[] {
  return exposition.samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )
}
