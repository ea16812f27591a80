// Values as people read them, by the panel's unit (Grafana's unit names).

function trim(n: number, digits: number): string {
  return n.toFixed(digits).replace(/\.?0+$/, '')
}

function sig(n: number): string {
  const a = Math.abs(n)
  if (a === 0) return '0'
  if (a >= 100) return String(Math.round(n))
  if (a >= 10) return trim(n, 1)
  if (a >= 1) return trim(n, 2)
  return trim(n, 3)
}

export function formatValue(value: number | null | undefined, unit: string): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—'
  switch (unit) {
    case 'percentunit':
      return `${trim(value * 100, Math.abs(value) < 0.1 ? 2 : 1)}%`
    case 's':
      if (Math.abs(value) < 1) return `${sig(value * 1000)} ms`
      if (Math.abs(value) < 120) return `${sig(value)} s`
      return `${sig(value / 60)} min`
    case 'reqps':
      return `${sig(value)} req/s`
    default:
      if (Math.abs(value) >= 1e6) return `${sig(value / 1e6)}M`
      if (Math.abs(value) >= 1e4) return `${sig(value / 1e3)}k`
      return sig(value)
  }
}

/** Short axis labels (no unit word). */
export function formatAxis(value: number, unit: string): string {
  if (unit === 'reqps') return sig(value)
  return formatValue(value, unit)
}

/** Grafana's legendFormat: `{{label}}` takes the label's value; missing labels leave nothing
 * (nor the `/` between two of them). Empty when no part is left. */
export function legendOf(format: string, labels: Record<string, string>): string {
  return format
    .replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (_m, name: string) => labels[name] ?? '')
    .replace(/(^|\s)\/|\/(?=\s|$)/g, '$1')
    .replace(/\s+/g, ' ')
    .trim()
}
