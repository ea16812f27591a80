// Prometheus text as each engine's library writes it. Python's prometheus_client (vLLM, SGLang,
// https://github.com/prometheus/client_python/blob/master/prometheus_client/exposition.py and
// utils.py floatToGoString): values as Python's repr(float) ("8.0", "9.75e-06"), switched to Go's
// exponent form from 7 integer digits ("7.557572e+06"), labels sorted by name (so `le` comes
// first), counters' and histograms' creation times as separate `*_created` gauge families.
// Rust's metrics-exporter-prometheus (TGI): no HELP, integers as integers, `le` as Rust prints a
// float. llama.cpp: C++ ostream defaults (6 significant digits).

/** Python's repr() of a float. */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan'
  if (x === Number.POSITIVE_INFINITY) return 'inf'
  if (x === Number.NEGATIVE_INFINITY) return '-inf'
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0'
  const [mant = '0', expText = '0'] = x.toExponential().split('e')
  const exp = Number(expText)
  if (exp < -4 || exp >= 16) {
    return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`
  }
  const s = String(x)
  return /[.e]/.test(s) ? s : `${s}.0`
}

/** prometheus_client's floatToGoString: repr, in exponent form from 7 integer digits. */
export function goFloat(x: number): string {
  if (x === Number.POSITIVE_INFINITY) return '+Inf'
  if (x === Number.NEGATIVE_INFINITY) return '-Inf'
  if (Number.isNaN(x)) return 'NaN'
  const s = pyFloat(x)
  const dot = s.indexOf('.')
  if (x > 0 && dot > 6) {
    const mantissa = `${s[0]}.${s.slice(1, dot)}${s.slice(dot + 1)}`.replace(/[0.]+$/, '')
    return `${mantissa}e+0${dot - 1}`
  }
  return s
}

/** C++ `ostream << double` (precision 6, %g). */
export function cppDouble(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf'
  if (x === 0) return '0'
  const exp = Math.floor(Math.log10(Math.abs(Number(x.toPrecision(6)))))
  if (exp < -4 || exp >= 6) {
    const [m = '0', e = '0'] = x.toExponential(5).split('e')
    const mant = m.includes('.') ? m.replace(/\.?0+$/, '') : m
    const n = Number(e)
    return `${mant}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`
  }
  const fixed = x.toFixed(Math.max(0, 5 - exp))
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed
}

export class Histogram {
  readonly counts: number[]
  sum = 0
  count = 0
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length).fill(0)
  }
  observe(v: number, n = 1): void {
    this.sum += v * n
    this.count += n
    const b = this.bounds
    // Most observations land in the first few buckets.
    for (let i = 0; i < b.length; i++) {
      if (v <= (b[i] as number)) {
        this.counts[i] = (this.counts[i] ?? 0) + n
        return
      }
    }
  }
  /** Adds `sumValue` to the sum and `n` to one bucket (SGLang's weighted inter-token latency). */
  observeWeighted(bucketValue: number, sumValue: number, n: number): void {
    this.observe(bucketValue, n)
    this.sum += sumValue - bucketValue * n
  }
  cumulative(): number[] {
    let acc = 0
    return this.counts.map((c) => {
      acc += c
      return acc
    })
  }
}

export type Labels = Readonly<Record<string, string>>

const escapeLabel = (v: string) =>
  v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
const escapeHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')

function labelText(labels: Labels, sorted: boolean): string {
  const keys = Object.keys(labels)
  if (keys.length === 0) return ''
  if (sorted) keys.sort()
  return `{${keys.map((k) => `${k}="${escapeLabel(labels[k] ?? '')}"`).join(',')}}`
}

export interface PythonSeries<T> {
  labels: Labels
  value: T
}

/** prometheus_client's text format 0.0.4. `multiprocess`: SGLang's MultiProcessCollector (no
 * _created, histogram _sum first). */
export class PythonWriter {
  private readonly out: string[] = []
  constructor(
    private readonly createdS: number | undefined,
    private readonly multiprocess = false,
  ) {}

  private family(name: string, help: string, type: string) {
    this.out.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`)
  }
  private line(name: string, labels: Labels, v: string) {
    this.out.push(`${name}${labelText(labels, true)} ${v}`)
  }
  private created(name: string, help: string, series: readonly PythonSeries<unknown>[]) {
    if (this.createdS === undefined || this.multiprocess || series.length === 0) return
    this.family(`${name}_created`, help, 'gauge')
    for (const s of series) this.line(`${name}_created`, s.labels, goFloat(this.createdS))
  }

  gauge(name: string, help: string, series: readonly PythonSeries<number>[]): this {
    this.family(name, help, 'gauge')
    for (const s of series) this.line(name, s.labels, goFloat(s.value))
    return this
  }

  /** `name` without the `_total` suffix prometheus_client adds. */
  counter(
    name: string,
    help: string,
    series: readonly PythonSeries<number>[],
    withCreated = true,
  ): this {
    this.family(`${name}_total`, help, 'counter')
    for (const s of series) this.line(`${name}_total`, s.labels, goFloat(s.value))
    if (withCreated) this.created(name, help, series)
    return this
  }

  histogram(name: string, help: string, series: readonly PythonSeries<Histogram>[]): this {
    this.family(name, help, 'histogram')
    for (const { labels, value: h } of series) {
      if (this.multiprocess) this.line(`${name}_sum`, labels, goFloat(h.sum))
      const cum = h.cumulative()
      h.bounds.forEach((b, i) => {
        this.line(`${name}_bucket`, { ...labels, le: goFloat(b) }, goFloat(cum[i] ?? 0))
      })
      this.line(`${name}_bucket`, { ...labels, le: '+Inf' }, goFloat(h.count))
      this.line(`${name}_count`, labels, goFloat(h.count))
      if (!this.multiprocess) this.line(`${name}_sum`, labels, goFloat(h.sum))
    }
    this.created(name, help, series)
    return this
  }

  text(): string {
    return `${this.out.join('\n')}\n`
  }
}

/** Rust's Display for f64: shortest round-trip digits, never an exponent. */
export function rustFloat(x: number): string {
  if (Number.isInteger(x)) return String(x)
  const s = String(x)
  if (!s.includes('e')) return s
  const [m = '0', e = '0'] = s.split('e')
  const exp = Number(e)
  const digits = m.replace('.', '').replace('-', '')
  const point =
    (m.replace('-', '').indexOf('.') === -1
      ? m.replace('-', '').length
      : m.replace('-', '').indexOf('.')) + exp
  const sign = x < 0 ? '-' : ''
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`
  return `${sign}${digits.padEnd(point, '0').slice(0, point)}${digits.length > point ? `.${digits.slice(point)}` : ''}`
}

/** metrics-exporter-prometheus: counters, then gauges, then histograms, each sorted by name. */
export class RustWriter {
  private readonly counters: string[][] = []
  private readonly gauges: string[][] = []
  private readonly histograms: string[][] = []

  private lines(name: string, type: string, samples: readonly PythonSeries<number>[]): string[] {
    return [
      `# TYPE ${name} ${type}`,
      ...samples.map((s) => `${name}${labelText(s.labels, false)} ${rustFloat(s.value)}`),
      '',
    ]
  }
  counter(name: string, samples: readonly PythonSeries<number>[]): this {
    this.counters.push([name, ...this.lines(name, 'counter', samples)])
    return this
  }
  gauge(name: string, samples: readonly PythonSeries<number>[]): this {
    this.gauges.push([name, ...this.lines(name, 'gauge', samples)])
    return this
  }
  histogram(name: string, series: readonly PythonSeries<Histogram>[]): this {
    const out = [name, `# TYPE ${name} histogram`]
    for (const { labels, value: h } of series) {
      const cum = h.cumulative()
      h.bounds.forEach((b, i) => {
        out.push(
          `${name}_bucket${labelText({ ...labels, le: rustFloat(b) }, false)} ${cum[i] ?? 0}`,
        )
      })
      out.push(`${name}_bucket${labelText({ ...labels, le: '+Inf' }, false)} ${h.count}`)
      out.push(`${name}_sum${labelText(labels, false)} ${rustFloat(h.sum)}`)
      out.push(`${name}_count${labelText(labels, false)} ${h.count}`)
    }
    out.push('')
    this.histograms.push(out)
    return this
  }
  text(): string {
    const byName = (a: string[], b: string[]) => ((a[0] ?? '') < (b[0] ?? '') ? -1 : 1)
    return [this.counters, this.gauges, this.histograms]
      .flatMap((group) => [...group].sort(byName).map((g) => g.slice(1).join('\n')))
      .join('\n')
  }
}

/** vLLM's token-count buckets: 1, 2, 5, 10, 20, 50, ... up to `max` (build_1_2_5_buckets,
 * https://github.com/vllm-project/vllm/blob/main/vllm/v1/metrics/loggers.py). */
export function buckets125(max: number): number[] {
  const out: number[] = []
  for (let exp = 0; ; exp++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** exp
      if (v > max) return out
      out.push(v)
    }
  }
}
