import type { AlertText } from './_messages.js'
import type { Language } from './_plan.js'

/** The client behind most long-context requests, read when the alert is evaluated (a template
 * query: https://prometheus.io/docs/prometheus/latest/configuration/template_reference/). Empty
 * without the proxy's client counters. */
export const TOP_CLIENT_QUERY = 'topk(1, llm:client_long_context_requests:share_rate5m)'

export function topClientText(lang: Language): string {
  return lang === 'zh'
    ? `{{ range query "${TOP_CLIENT_QUERY}" }}长请求最多的客户端：{{ .Labels.client }}（占 {{ .Value | humanizePercentage }}）。{{ end }}`
    : `{{ range query "${TOP_CLIENT_QUERY}" }} Top client: {{ .Labels.client }} ({{ .Value | humanizePercentage }} of the long requests).{{ end }}`
}

const WHERE_ZH =
  '{{ $labels.job }}{{ with $labels.instance }}/{{ . }}{{ end }}{{ with $labels.model }} 模型 {{ . }}{{ end }}'
const WHERE_EN =
  '{{ $labels.job }}{{ with $labels.instance }}/{{ . }}{{ end }}{{ with $labels.model }} (model {{ . }}){{ end }}'

export function kvExhaustionText(lang: Language, t: Record<string, string>): AlertText {
  return lang === 'zh'
    ? {
        summary: `KV cache 按当前趋势 {{ $value | humanizeDuration }} 后用满`,
        description: `${WHERE_ZH} 的 KV cache 使用率近 30 分钟持续上升，按此趋势 {{ $value | humanizeDuration }} 后达到 100%（阈值 ${t.within}），已持续 ${t.for}。请在抢占和 OOM 之前检查持续增长的会话/前缀缓存和长上下文请求。`,
      }
    : {
        summary: `KV cache full in {{ $value | humanizeDuration }} at the current trend`,
        description: `KV cache usage on ${WHERE_EN} has kept rising over 30 minutes; at this trend it reaches 100% in {{ $value | humanizeDuration }} (threshold ${t.within}), for ${t.for}. Look for sessions or prefix caches that keep growing and for long-context traffic before preemptions and OOM start.`,
      }
}
