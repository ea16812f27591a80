// Page text in English and Chinese. Shared by the server (first paint, login page) and the page.

export type Lang = 'en' | 'zh'

const en = {
  title: 'inferwatch',
  subtitle: 'LLM serving at a glance',
  loading: 'loading…',
  sourcePrometheus: 'Prometheus',
  sourceLocal:
    'Live values from this process only, kept in memory for the last hour: no Prometheus answered at',
  sourceLocalHint:
    'Engine series (KV cache, running, waiting) and alerts need Prometheus. Start it with the generated prometheus.yml, or set prometheus.url.',
  sourceError: 'Prometheus did not answer',
  range: 'Time range',
  refreshed: 'updated',
  language: '中文',
  languageLabel: 'Switch to Chinese',
  alerts: 'Active alerts',
  noAlerts: 'No alert firing or pending.',
  alertsUnavailable: 'Alerts come from Prometheus: not available from the in-memory values.',
  runbook: 'runbook',
  firing: 'firing',
  pending: 'pending',
  since: 'since',
  noData: 'no data',
  needsPrometheus: 'needs Prometheus',
  stateOk: 'below threshold',
  stateNear: 'near threshold',
  stateOver: 'over threshold',
  threshold: 'threshold',
  running: 'running',
  waiting: 'waiting',
  tiles: {
    requests: 'Requests/s',
    latency: 'Latency p95',
    ttft: 'TTFT p95',
    errors: 'Error ratio',
    long_context: 'Long-context share',
    kv_cache: 'KV cache',
    gpu_memory: 'GPU memory',
    backlog: 'Running / waiting',
  } as Record<string, string>,
  panels: {} as Record<string, string>,
  loginTitle: 'inferwatch dashboard: admin token',
  loginText: 'This admin server has an admin token. Enter it to open the dashboard.',
  loginWrong: 'That token is not the admin token.',
  loginButton: 'Open the dashboard',
  loginLabel: 'Admin token',
  seriesHidden: 'hidden',
  toggleSeries: 'Show or hide',
  total: 'total',
}

export type Strings = typeof en

const zh: Strings = {
  ...en,
  subtitle: 'LLM 推理服务一览',
  loading: '加载中…',
  sourceLocal: '仅本进程的实时数据（内存中保留最近一小时）：Prometheus 无应答，地址',
  sourceLocalHint:
    '引擎指标（KV cache、运行中、排队中）和告警需要 Prometheus：用生成的 prometheus.yml 启动它，或设置 prometheus.url。',
  sourceError: 'Prometheus 无应答',
  range: '时间范围',
  refreshed: '更新于',
  language: 'English',
  languageLabel: '切换到英文',
  alerts: '当前告警',
  noAlerts: '没有触发中或待定的告警。',
  alertsUnavailable: '告警来自 Prometheus：内存数据模式下不可用。',
  runbook: '处理手册',
  firing: '触发中',
  pending: '待定',
  since: '开始于',
  noData: '无数据',
  needsPrometheus: '需要 Prometheus',
  stateOk: '低于阈值',
  stateNear: '接近阈值',
  stateOver: '超过阈值',
  threshold: '阈值',
  running: '运行中',
  waiting: '排队中',
  tiles: {
    requests: '请求/秒',
    latency: '延迟 p95',
    ttft: '首 token p95',
    errors: '错误率',
    long_context: '长上下文占比',
    kv_cache: 'KV cache',
    gpu_memory: 'GPU 显存',
    backlog: '运行中 / 排队中',
  },
  panels: {
    traffic: '请求速率与延迟 p50 / p95 / p99',
    context_class: '按上下文长度分类的请求',
    ttft: '首 token 延迟 p50 / p95，每 token 时间 p95',
    errors: '错误率（服务端）',
    long_context: '长上下文请求占比',
    tokens: '每秒 token 数（输入、输出）',
    memory: 'KV cache 使用率与 GPU 显存',
    backlog: '运行中 / 排队中的请求',
    queue: '平均排队时间',
    preemptions: '每秒抢占次数',
    clients: '各客户端的长上下文请求占比',
    phases: '时间花在哪里：排队、预填充、解码、引擎之外（平均）',
    kv_exhaustion: 'KV cache 按 30 分钟趋势还有多久用满',
    token_cost: '每个输出 token 的能耗（焦耳）',
  },
  loginTitle: 'inferwatch 看板：管理令牌',
  loginText: '此管理端口设置了管理令牌（adminToken），输入后打开看板。',
  loginWrong: '令牌不正确。',
  loginButton: '打开看板',
  loginLabel: '管理令牌',
  seriesHidden: '已隐藏',
  toggleSeries: '显示或隐藏',
  total: '合计',
}

export const STRINGS: Record<Lang, Strings> = { en, zh }

/** The first of the browser's languages that is Chinese or English (RFC 9110 Accept-Language). */
export function pickLanguage(tags: readonly string[]): Lang | undefined {
  for (const tag of tags) {
    const t = tag.trim().toLowerCase()
    if (t.startsWith('zh')) return 'zh'
    if (t.startsWith('en')) return 'en'
  }
  return undefined
}
