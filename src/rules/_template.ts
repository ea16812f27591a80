// The subset of Prometheus' alert templating (Go text/template + humanize* from
// prometheus/template/template.go) that our annotations use, so generated promtool tests can state
// the exact text an alert carries. promtool then checks our expectation against the real thing.

function formatG4(v: number): string {
  // Go's %.4g: 4 significant digits, trailing zeros dropped, exponent form outside 1e-4..1e4.
  if (v === 0) return '0'
  const exp = Math.floor(Math.log10(Math.abs(v)))
  if (exp < -4 || exp >= 4) {
    const [m, e] = v.toExponential(3).split('e') as [string, string]
    const mant = m.includes('.') ? m.replace(/\.?0+$/, '') : m
    const n = Number(e)
    return `${mant}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`
  }
  return String(Number(v.toPrecision(4)))
}

export function humanize(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return formatG4(v)
  let prefix = ''
  if (Math.abs(v) >= 1) {
    for (const p of ['k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y']) {
      if (Math.abs(v) < 1000) break
      prefix = p
      v /= 1000
    }
    return `${formatG4(v)}${prefix}`
  }
  for (const p of ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y']) {
    if (Math.abs(v) >= 1) break
    prefix = p
    v *= 1000
  }
  return `${formatG4(v)}${prefix}`
}

export function humanizePercentage(v: number): string {
  return `${formatG4(v * 100)}%`
}

export function humanizeDuration(v: number): string {
  if (!Number.isFinite(v)) return formatG4(v)
  if (v === 0) return '0s'
  if (Math.abs(v) >= 1) {
    const sign = v < 0 ? '-' : ''
    const a = Math.abs(v)
    const whole = Math.trunc(a)
    const s = whole % 60
    const m = Math.trunc(whole / 60) % 60
    const h = Math.trunc(whole / 3600) % 24
    const d = Math.trunc(whole / 86400)
    if (d) return `${sign}${d}d ${h}h ${m}m ${s}s`
    if (h) return `${sign}${h}h ${m}m ${s}s`
    if (m) return `${sign}${m}m ${s}s`
    return `${sign}${formatG4(a)}s`
  }
  let prefix = ''
  for (const p of ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y']) {
    if (Math.abs(v) >= 1) break
    prefix = p
    v *= 1000
  }
  return `${formatG4(v)}${prefix}s`
}

/** Go's %v for a float64 ($value without a pipeline). */
function goFloat(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e21) return String(v)
  const s = String(v)
  return s.replace(/e([+-])(\d)$/, 'e$10$2')
}

const FUNCS: Record<string, (v: number) => string> = {
  humanize,
  humanizePercentage,
  humanizeDuration,
}

/** One sample of a template `query` result. */
export interface QuerySample {
  labels: Record<string, string>
  value: number
}

/** `{{ range query "q" }}…{{ .Labels.x }}…{{ .Value [| f] }}…{{ end }}` with the given results
 * (none when a query is not listed: what Prometheus prints for an empty result). */
function expandQueries(text: string, queries: Readonly<Record<string, QuerySample[]>>): string {
  return text.replace(
    /\{\{ range query "([^"]*)" \}\}(.*?)\{\{ end \}\}/g,
    (_m, q: string, body: string) =>
      (queries[q] ?? [])
        .map((s) =>
          body.replace(
            /\{\{ (\.Labels\.(\w+)|\.Value(?: \| (\w+))?) \}\}/g,
            (_b, _all, label, fn) => {
              if (label) return s.labels[label] ?? ''
              const f = fn ? FUNCS[fn] : undefined
              if (fn && !f) throw new Error(`template function ${fn} not supported`)
              return f ? f(s.value) : goFloat(s.value)
            },
          ),
        )
        .join(''),
  )
}

/** Expands `{{ $labels.x }}`, `{{ $value [| f] }}`, `{{ with $labels.x }}…{{ . }}…{{ end }}` and
 * `{{ range query "q" }}…{{ end }}` (results from `queries`). */
export function expandTemplate(
  text: string,
  labels: Record<string, string>,
  value: number,
  queries: Readonly<Record<string, QuerySample[]>> = {},
): string {
  const withBlocks = expandQueries(text, queries).replace(
    /\{\{ with \$labels\.(\w+) \}\}(.*?)\{\{ end \}\}/g,
    (_m, name: string, body: string) => {
      const v = labels[name]
      return v ? body.replaceAll('{{ . }}', v) : ''
    },
  )
  return withBlocks.replace(
    /\{\{ (\$labels\.(\w+)|\$value(?: \| (\w+))?) \}\}/g,
    (_m, _all, label, fn) => {
      if (label) return labels[label] ?? ''
      const f = fn ? FUNCS[fn] : undefined
      if (fn && !f) throw new Error(`template function ${fn} not supported`)
      return f ? f(value) : goFloat(value)
    },
  )
}
