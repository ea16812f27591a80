import { kvExhaustionText, topClientText } from './_messages-beyond.js'
import type { AlertName, Language } from './_plan.js'

export interface AlertText {
  summary: string
  description: string
}

// Go templates evaluated by Prometheus: $labels, $value and the humanize* functions. A missing
// label prints "<no value>", so optional labels go through `with`.
const WHERE_ZH =
  '{{ $labels.job }}{{ with $labels.instance }}/{{ . }}{{ end }}{{ with $labels.model }} 模型 {{ . }}{{ end }}'
const WHERE_EN =
  '{{ $labels.job }}{{ with $labels.instance }}/{{ . }}{{ end }}{{ with $labels.model }} (model {{ . }}){{ end }}'

/** summary/description per alert; `t` holds rendered thresholds (e.g. "92%", "2s"). */
export function alertText(
  name: AlertName | 'LLMErrorBudgetBurnSlow',
  lang: Language,
  t: Record<string, string>,
): AlertText {
  const zh = lang === 'zh'
  const where = zh ? WHERE_ZH : WHERE_EN
  switch (name) {
    case 'LLMGPUMemoryHigh':
      return zh
        ? {
            summary: `GPU 显存使用率过高：{{ $value | humanizePercentage }}（阈值 ${t.threshold}）`,
            description: `{{ with $labels.instance }}{{ . }} 上的 {{ end }}GPU {{ $labels.gpu }}{{ with $labels.hw_name }}（{{ . }}）{{ end }}显存使用率为 {{ $value | humanizePercentage }}，超过 ${t.threshold} 已持续 ${t.for}。vLLM 启动时会按 gpu_memory_utilization 预分配显存，阈值必须高于该比例；请先看 KV cache 使用率和是否有其他进程占用显存。`,
          }
        : {
            summary: `GPU memory usage high: {{ $value | humanizePercentage }} (threshold ${t.threshold})`,
            description: `GPU {{ $labels.gpu }}{{ with $labels.hw_name }} ({{ . }}){{ end }}{{ with $labels.instance }} on {{ . }}{{ end }} has used {{ $value | humanizePercentage }} of its memory, above ${t.threshold} for ${t.for}. vLLM pre-allocates gpu_memory_utilization of the card at start, so the threshold must sit above that fraction; check KV cache usage and other processes on the GPU.`,
          }
    case 'LLMKVCacheHigh':
      return zh
        ? {
            summary: `KV cache 使用率过高：{{ $value | humanizePercentage }}`,
            description: `${where} 的 KV cache 使用率为 {{ $value | humanizePercentage }}，超过 ${t.threshold} 已持续 ${t.for}。继续增长会导致请求被抢占（preemption）和排队，首 token 延迟上升。`,
          }
        : {
            summary: `KV cache usage high: {{ $value | humanizePercentage }}`,
            description: `KV cache usage on ${where} is {{ $value | humanizePercentage }}, above ${t.threshold} for ${t.for}. Beyond this the engine preempts requests and queues new ones; time to first token rises.`,
          }
    case 'LLMQueueTimeHigh':
      return zh
        ? {
            summary: `请求排队时间过长：平均 {{ $value | humanizeDuration }}`,
            description: `${where} 最近 5 分钟请求平均排队 {{ $value | humanizeDuration }}，超过 ${t.threshold}（理想值 < 0.5 秒）已持续 ${t.for}。引擎已饱和：降低并发或增加副本。`,
          }
        : {
            summary: `Requests queue too long: mean {{ $value | humanizeDuration }}`,
            description: `Requests on ${where} waited {{ $value | humanizeDuration }} on average over 5 minutes, above ${t.threshold} (ideal < 0.5s) for ${t.for}. The engine is saturated: lower concurrency or add replicas.`,
          }
    case 'LLMBacklogHigh':
      return zh
        ? {
            summary: `运行中 + 等待中的请求过多：{{ $value }}`,
            description: `${where} 上运行中与等待中的请求共 {{ $value }} 个，达到 ${t.threshold} 已持续 ${t.for}（24 GB 显卡上 8 个左右即饱和）。`,
          }
        : {
            summary: `Too many requests running + waiting: {{ $value }}`,
            description: `${where} has {{ $value }} requests running or waiting, at least ${t.threshold} for ${t.for} (about 8 saturate a 24 GB card).`,
          }
    case 'LLMLongContextOverload':
      return zh
        ? {
            summary: `长上下文请求占比过高：{{ $value | humanizePercentage }}`,
            description: `${where} 最近 5 分钟 {{ $value | humanizePercentage }} 的请求提示词 ≥ ${t.tokens} tokens，超过 ${t.threshold} 已持续 ${t.for}。长请求占满 KV cache、拖慢其他请求。${topClientText('zh')}`,
          }
        : {
            summary: `Long-context share of requests high: {{ $value | humanizePercentage }}`,
            description: `{{ $value | humanizePercentage }} of the requests on ${where} over 5 minutes had prompts of ${t.tokens} tokens or more, above ${t.threshold} for ${t.for}. Long requests fill the KV cache and slow everything else.${topClientText('en')}`,
          }
    case 'LLMKVCacheExhaustionSoon':
      return kvExhaustionText(lang, t)
    case 'LLMHighErrorRate':
      return zh
        ? {
            summary: `请求错误率过高：{{ $value | humanizePercentage }}`,
            description: `${where} 最近 5 分钟服务端错误（5xx、429、上游不可达/超时）占 {{ $value | humanizePercentage }}，超过 ${t.threshold} 已持续 ${t.for}。`,
          }
        : {
            summary: `Request error ratio high: {{ $value | humanizePercentage }}`,
            description: `Server-side errors (5xx, 429, upstream unreachable/timeout) were {{ $value | humanizePercentage }} of the requests on ${where} over 5 minutes, above ${t.threshold} for ${t.for}.`,
          }
    case 'LLMSlowTimeToFirstToken':
      return zh
        ? {
            summary: `首 token 延迟 p95 过高：{{ $value | humanizeDuration }}`,
            description: `${where} 最近 5 分钟首 token 延迟 p95 为 {{ $value | humanizeDuration }}，超过 SLO ${t.threshold} 已持续 ${t.for}。`,
          }
        : {
            summary: `Time to first token p95 slow: {{ $value | humanizeDuration }}`,
            description: `The p95 time to first token on ${where} over 5 minutes is {{ $value | humanizeDuration }}, above the ${t.threshold} SLO for ${t.for}.`,
          }
    case 'LLMEngineDown':
      return zh
        ? {
            summary: `推理引擎不可用：{{ $labels.job }}{{ with $labels.instance }}/{{ . }}{{ end }}`,
            description: `推理引擎 {{ $labels.job }}{{ with $labels.instance }}/{{ . }}{{ end }}{{ with $labels.upstream }}（{{ . }}）{{ end }} 无法抓取指标或健康检查失败已持续 ${t.for}。先检查进程、端口和 /health；CUDA OOM、模型加载失败时监控无法恢复服务。`,
          }
        : {
            summary: `Inference engine down: {{ $labels.job }}{{ with $labels.instance }}/{{ . }}{{ end }}`,
            description: `The inference engine {{ $labels.job }}{{ with $labels.instance }}/{{ . }}{{ end }}{{ with $labels.upstream }} ({{ . }}){{ end }} cannot be scraped or fails its health check for ${t.for}. Check the process, the port and /health; monitoring cannot fix a failed start (CUDA OOM, model load failure).`,
          }
    case 'LLMErrorBudgetBurn':
      return zh
        ? {
            summary: `错误预算快速消耗（${t.objective} SLO）：错误率 {{ $value | humanizePercentage }}`,
            description: `${where} 的错误率 {{ $value | humanizePercentage }} 以超过 ${t.burn} 倍的速度消耗 ${t.objective} 可用性 SLO 的错误预算（长短双窗口同时超标），需要立即处理。`,
          }
        : {
            summary: `Error budget burning fast (${t.objective} SLO): error ratio {{ $value | humanizePercentage }}`,
            description: `The error ratio on ${where} ({{ $value | humanizePercentage }}) burns the ${t.objective} availability SLO's error budget at more than ${t.burn}x in both a long and a short window; act now.`,
          }
    case 'LLMErrorBudgetBurnSlow':
      return zh
        ? {
            summary: `错误预算持续消耗（${t.objective} SLO）：错误率 {{ $value | humanizePercentage }}`,
            description: `${where} 的错误率 {{ $value | humanizePercentage }} 持续以超过 ${t.burn} 倍的速度消耗错误预算（长短双窗口），请在工作时间内处理。`,
          }
        : {
            summary: `Error budget burning (${t.objective} SLO): error ratio {{ $value | humanizePercentage }}`,
            description: `The error ratio on ${where} ({{ $value | humanizePercentage }}) keeps burning the error budget at more than ${t.burn}x in both a long and a short window; handle it during working hours.`,
          }
    case 'LLMPreemptions':
      return zh
        ? {
            summary: `引擎正在抢占请求：{{ $value | humanize }} 次/秒`,
            description: `${where} 因 KV cache 不足抢占（preempt/retract）请求，速率 {{ $value | humanize }} 次/秒，已持续 ${t.for}。被抢占的请求需要重算，延迟上升。`,
          }
        : {
            summary: `Engine preempting requests: {{ $value | humanize }}/s`,
            description: `${where} preempts (or retracts) requests for lack of KV cache at {{ $value | humanize }}/s for ${t.for}. Preempted requests are recomputed; latency rises.`,
          }
    case 'InferwatchTargetMissing':
      return zh
        ? {
            summary: `监控目标缺失：{{ $labels.job }}{{ with $labels.instance }} {{ . }}{{ end }}`,
            description: `Prometheus 已 ${t.for} 无法获取 {{ $labels.job }}{{ with $labels.instance }} {{ . }}{{ end }} 的指标（目标宕机、不存在或 GPU 采集失败），依赖它的告警不会触发。`,
          }
        : {
            summary: `Monitoring target missing: {{ $labels.job }}{{ with $labels.instance }} {{ . }}{{ end }}`,
            description: `Prometheus has had no metrics from {{ $labels.job }}{{ with $labels.instance }} {{ . }}{{ end }} for ${t.for} (target down, absent, or the GPU collector failing); alerts that depend on it cannot fire.`,
          }
  }
}
