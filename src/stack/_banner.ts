import type { Registry } from 'prom-client'
import type { StackHandle } from './start-stack.js'

// What `up` prints once everything is ready: what it watches and where everything is.

export interface WatchedEngine {
  engine: string
  version: string
  models: { model: string; maxModelLen: string }[]
}

const ENGINE_NAMES: Record<string, string> = {
  vllm: 'vLLM',
  sglang: 'SGLang',
  tgi: 'TGI',
  'llama.cpp': 'llama.cpp',
  llamacpp: 'llama.cpp',
  openai: 'an OpenAI-compatible server',
}

/** The engine as discovery found it, from inferwatch_engine_info on the server's registry. */
export async function watchedEngine(registry: Registry): Promise<WatchedEngine | undefined> {
  const metric = registry.getSingleMetric('inferwatch_engine_info')
  const values = (await metric?.get())?.values ?? []
  const first = values[0]
  if (!first) return undefined
  return {
    engine: String(first.labels.engine ?? ''),
    version: String(first.labels.version ?? ''),
    models: values
      .map((v) => ({
        model: String(v.labels.model ?? ''),
        maxModelLen: String(v.labels.max_model_len ?? ''),
      }))
      .filter((m) => m.model),
  }
}

export function renderBanner(
  h: StackHandle,
  engine: WatchedEngine | undefined,
  extra: { upstream: string; external: { prometheus: boolean; alertmanager: boolean } },
): string {
  const lines: string[] = []
  if (engine) {
    const name = ENGINE_NAMES[engine.engine] ?? engine.engine
    const models = engine.models
      .map((m) => `${m.model}${m.maxModelLen ? ` (max_model_len ${m.maxModelLen})` : ''}`)
      .join(', ')
    lines.push(
      `watching ${name}${engine.version ? ` ${engine.version}` : ''} at ${extra.upstream}: ${models || 'no model listed yet'}`,
    )
  } else {
    lines.push(
      `watching ${extra.upstream}: the engine did not answer discovery yet (inferwatch keeps probing; start the engine or check --upstream)`,
    )
  }
  const proxy = h.proxyUrl
  const row = (k: string, v: string) => `  ${k.padEnd(14)}${v}`
  lines.push(
    row('proxy', `${proxy}   point clients here: OpenAI base URL ${proxy}/v1`),
    row('dashboard', `${h.adminUrl}/`),
    row('metrics', `${h.adminUrl}/metrics`),
    row(
      'Prometheus',
      `${h.prometheusUrl}   alerts ${h.prometheusUrl}/alerts, targets ${h.prometheusUrl}/targets${extra.external.prometheus ? ' (external: load `inferwatch rules` output into it)' : ''}`,
    ),
    row(
      'Alertmanager',
      `${h.alertmanagerUrl}${extra.external.alertmanager ? ' (external: route its webhook to the admin /hooks/alertmanager)' : ''}`,
    ),
    row(
      'notifications',
      `${h.paths.notifications}${h.config.relay.channels.length ? ` and ${h.config.relay.channels.map((c) => c.name).join(', ')}` : ' (add relay.channels to the config for DingTalk, WeCom, Feishu, Slack)'}`,
    ),
    row('data', `${h.paths.dataDir} (generated config, TSDB, logs)`),
  )
  if (h.staleStopped.length)
    lines.push(
      `stopped ${h.staleStopped.length} stale child(ren) a killed inferwatch up left: pid ${h.staleStopped.join(', ')}`,
    )
  for (const w of h.warnings) lines.push(`warning: ${w}`)
  if (h.targetsDown.length) {
    lines.push('Prometheus targets not up yet:')
    for (const t of h.targetsDown)
      lines.push(`  ${t.scrapePool} ${t.scrapeUrl}: ${t.lastError || t.health}`)
  } else {
    lines.push('every Prometheus target is up')
  }
  return `${lines.join('\n')}\n`
}
