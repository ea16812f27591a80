import { Gauge, type Registry } from 'prom-client'
import type { EngineInfo } from './types.js'

export interface EngineInfoMetric {
  /** Replaces the series with one per served model. */
  set(info: EngineInfo): void
  /** Removes every series (engine gone or unknown). */
  clear(): void
}

/** Registers `inferwatch_engine_info{engine,version,model,max_model_len} 1` on `registry`. */
export function registerEngineInfo(registry: Registry): EngineInfoMetric {
  const gauge = new Gauge({
    name: 'inferwatch_engine_info',
    help: 'Engine behind the proxy (from discovery): always 1, one series per served model.',
    labelNames: ['engine', 'version', 'model', 'max_model_len'] as const,
    registers: [registry],
  })
  return {
    set(info) {
      gauge.reset()
      const models = info.models.length > 0 ? info.models : ['']
      for (const model of models) {
        gauge.set(
          {
            engine: info.provider,
            version: info.version ?? '',
            model,
            max_model_len: info.maxModelLen === undefined ? '' : String(info.maxModelLen),
          },
          1,
        )
      }
    },
    clear() {
      gauge.reset()
    },
  }
}
