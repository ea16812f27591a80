// The page's calls to its admin server (same origin; the session cookie rides along).

export type Source = 'prometheus' | 'local' | 'error'

export interface PanelTarget {
  expr: string
  legend: string
  unit?: string
}

export interface Panel {
  key: string
  title: string
  unit: string
  targets: PanelTarget[]
  lines: { value: number; kind: 'alert' | 'reserved'; label: string }[]
}

export interface Tile {
  key: string
  unit: string
  exprs: string[]
  agg: 'sum' | 'max'
  alert?: { name: string; threshold: number; severity: 'critical' | 'warning' }
}

export interface Spec {
  language: 'en' | 'zh'
  source: Source
  prometheusUrl: string
  localWindowSeconds: number
  localOnly: string[]
  panels: Panel[]
  tiles: Tile[]
  refreshSeconds: number
}

export interface SeriesData {
  metric: Record<string, string>
  values?: [number, string][]
  value?: [number, string]
}

export interface Alert {
  labels: Record<string, string>
  annotations: Record<string, string>
  state: string
  activeAt?: string
}

export interface Reply<T> {
  data: T
  source: Source
}

async function getJson<T>(path: string): Promise<Reply<T>> {
  const res = await fetch(path, { credentials: 'same-origin' })
  const body = (await res.json()) as { status?: string; data?: unknown; error?: string }
  const source = (res.headers.get('x-inferwatch-source') ?? 'error') as Source
  if (!res.ok) throw new Error(body.error ?? `${path}: HTTP ${res.status}`)
  return { data: (path === '/api/dashboard' ? body : body.data) as T, source }
}

export const loadSpec = () => getJson<Spec>('/api/dashboard')

export const queryInstant = (expr: string) =>
  getJson<{ result: SeriesData[] }>(`/api/v1/query?${new URLSearchParams({ query: expr })}`)

export const queryRange = (expr: string, start: number, end: number, step: number) =>
  getJson<{ result: SeriesData[] }>(
    `/api/v1/query_range?${new URLSearchParams({
      query: expr,
      start: String(start),
      end: String(end),
      step: String(step),
    })}`,
  )

export const loadAlerts = () => getJson<{ alerts: Alert[] }>('/api/v1/alerts')
