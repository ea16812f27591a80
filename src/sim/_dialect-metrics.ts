// The /metrics writer of the simulated engine's dialect.
import type { Dialect } from './_dialects.js'
import type { EngineMetrics, MetricsContext } from './_engine-metrics.js'
import { createLlamacppMetrics } from './_metrics-llamacpp.js'
import { createSglangMetrics } from './_metrics-sglang.js'
import { createTgiMetrics } from './_metrics-tgi.js'
import { createVllmMetrics } from './_metrics-vllm.js'

export function createDialectMetrics(ctx: MetricsContext, d: Dialect): EngineMetrics {
  switch (d.engine) {
    case 'vllm':
      return createVllmMetrics(ctx, d)
    case 'sglang':
      return createSglangMetrics(ctx, d)
    case 'tgi':
      return createTgiMetrics(ctx)
    case 'llamacpp':
      return createLlamacppMetrics(ctx, d)
  }
}
