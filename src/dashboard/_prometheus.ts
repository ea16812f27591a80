import { z } from 'zod'

// The page's read-only window on Prometheus's HTTP API
// (https://prometheus.io/docs/prometheus/latest/querying/api/): instant and range queries on the
// allow-list, and the alerts. Requests are checked strictly here and replies parsed before they
// are passed on.

export type QueryRequest =
  | { kind: 'query'; query: string; time?: number }
  | { kind: 'query_range'; query: string; start: number; end: number; step: number }

/** Longest range the page asks for (24 h) with some slack, and at most this many points. */
const MAX_RANGE_SECONDS = 25 * 3600
const MAX_POINTS = 2000

export class BadQuery extends Error {}

function num(params: URLSearchParams, name: string, required: boolean): number | undefined {
  const all = params.getAll(name)
  if (all.length === 0) {
    if (required) throw new BadQuery(`missing parameter ${name}`)
    return undefined
  }
  const text = all[0] ?? ''
  if (all.length > 1 || !/^\d{1,12}(\.\d{1,6})?$/.test(text))
    throw new BadQuery(`${name} must be one number of Unix seconds (got ${JSON.stringify(text)})`)
  return Number(text)
}

/** Checks a /api/v1/query or /api/v1/query_range request: an allowed query and sane times. */
export function parseQueryRequest(
  kind: QueryRequest['kind'],
  params: URLSearchParams,
  allowed: ReadonlySet<string>,
): QueryRequest {
  const names = kind === 'query' ? ['query', 'time'] : ['query', 'start', 'end', 'step']
  for (const key of new Set(params.keys()))
    if (!names.includes(key)) throw new BadQuery(`unknown parameter ${key}`)
  const queries = params.getAll('query')
  const query = queries[0]?.trim() ?? ''
  if (queries.length !== 1 || !allowed.has(query))
    throw new BadQuery(
      'query is not one of the dashboard queries: only the inferwatch recording rules and metrics the page shows are allowed (GET /api/dashboard lists them)',
    )
  if (kind === 'query') {
    const time = num(params, 'time', false)
    return time === undefined ? { kind, query } : { kind, query, time }
  }
  const start = num(params, 'start', true) as number
  const end = num(params, 'end', true) as number
  const step = num(params, 'step', true) as number
  if (end <= start) throw new BadQuery('end must be after start')
  if (end - start > MAX_RANGE_SECONDS) throw new BadQuery('the range is longer than 25 h')
  if (step < 1 || (end - start) / step > MAX_POINTS)
    throw new BadQuery(`step must be at least 1 s and give at most ${MAX_POINTS} points`)
  return { kind, query, start, end, step }
}

const labels = z.record(z.string(), z.string())
const sample = z.tuple([z.number(), z.string()])
const queryReply = z.object({
  status: z.literal('success'),
  data: z.discriminatedUnion('resultType', [
    z.object({
      resultType: z.literal('vector'),
      result: z.array(z.object({ metric: labels, value: sample })),
    }),
    z.object({
      resultType: z.literal('matrix'),
      result: z.array(z.object({ metric: labels, values: z.array(sample) })),
    }),
  ]),
})
export type QueryReply = z.infer<typeof queryReply>

const alertsReply = z.object({
  status: z.literal('success'),
  data: z.object({
    alerts: z.array(
      z.object({
        labels,
        annotations: labels.default({}),
        state: z.string(),
        activeAt: z.string().optional(),
        value: z.string().optional(),
      }),
    ),
  }),
})
export type PromAlert = z.infer<typeof alertsReply>['data']['alerts'][number]

/** Prometheus could not be asked (network, timeout) or answered what the page cannot use. */
export class PrometheusError extends Error {
  constructor(
    message: string,
    readonly unreachable: boolean,
  ) {
    super(message)
  }
}

export interface PrometheusClient {
  url: string
  query(req: QueryRequest): Promise<QueryReply>
  alerts(): Promise<PromAlert[]>
  /** GET /-/ready answered 200. */
  ready(): Promise<boolean>
}

export function createPrometheusClient(
  base: string,
  fetchFn: typeof globalThis.fetch = globalThis.fetch,
  timeoutMs = 10_000,
): PrometheusClient {
  const root = base.replace(/\/+$/, '')
  const get = async (path: string): Promise<unknown> => {
    let res: Response
    try {
      res = await fetchFn(`${root}${path}`, { signal: AbortSignal.timeout(timeoutMs) })
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err)
      throw new PrometheusError(`Prometheus at ${root} did not answer: ${why}`, true)
    }
    const text = await res.text()
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      throw new PrometheusError(`Prometheus at ${root} answered ${res.status} without JSON`, false)
    }
    if (!res.ok) {
      const why = z.object({ error: z.string() }).safeParse(body)
      throw new PrometheusError(
        `Prometheus at ${root} answered ${res.status}: ${why.success ? why.data.error : text.slice(0, 200)}`,
        false,
      )
    }
    return body
  }
  const parse = <T>(schema: z.ZodType<T>, body: unknown, what: string): T => {
    const r = schema.safeParse(body)
    if (!r.success) throw new PrometheusError(`Prometheus at ${root}: unexpected ${what}`, false)
    return r.data
  }
  return {
    url: root,
    async query(req) {
      const p = new URLSearchParams({ query: req.query })
      if (req.kind === 'query') {
        if (req.time !== undefined) p.set('time', String(req.time))
      } else {
        p.set('start', String(req.start))
        p.set('end', String(req.end))
        p.set('step', String(req.step))
      }
      return parse(queryReply, await get(`/api/v1/${req.kind}?${p}`), 'query reply')
    },
    async alerts() {
      return parse(alertsReply, await get('/api/v1/alerts'), 'alerts reply').data.alerts
    },
    async ready() {
      try {
        const res = await fetchFn(`${root}/-/ready`, { signal: AbortSignal.timeout(1500) })
        await res.arrayBuffer()
        return res.ok
      } catch {
        return false
      }
    },
  }
}
