import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { describe, test } from 'node:test'
import { parseConfig } from '../config/index.js'
import { renderPrometheusConfig } from '../rules/index.js'
import { llamacppRoutes, startFakeEngine, vllmRoutes } from '../testing/fake-engines.js'
import { closeServer, listenLocal } from '../testing/index.js'
import { LLAMACPP_SKIP, llamaServerFiles, startLlamaServer } from '../testing/llamacpp.js'
import { queryPrometheus, waitUntil } from '../testing/prom-stack.js'
import { startRulesStack } from '../testing/rules-stack.js'
import { runDoctor } from './run-doctor.js'
import type { DoctorCheck, DoctorReport } from './types.js'

// "alert inputs have data", engine by engine, on the real Prometheus 2.42 with the generated rules:
// a llama.cpp build without a KV metric (as newer builds are) warns although a vLLM beside it has
// one; the real llama.cpp b4748, which exports llamacpp:kv_cache_usage_ratio, passes.

const skip = llamaServerFiles() ? false : LLAMACPP_SKIP

function check(report: DoctorReport, id: string): DoctorCheck {
  const c = report.checks.find((x) => x.id === id)
  assert.ok(c, `no check ${id}`)
  return c
}

const GPU_LABELS = 'gpu="0",hw_id="GPU-1",hw_name="NVIDIA GeForce RTX 4090 D"'
const GPU_TEXT = `hw_gpu_memory_usage_bytes{${GPU_LABELS}} 12000000000\nhw_gpu_memory_limit_bytes{${GPU_LABELS}} 24000000000\ninferwatch_gpu_collector_up 1\n`
// What llama.cpp builds from mid-2025 on export: no kv_cache_usage_ratio, no kv_cache_tokens.
const LLAMACPP_NEWER =
  'llamacpp:prompt_tokens_total 143\nllamacpp:tokens_predicted_total 673\nllamacpp:requests_processing 0\nllamacpp:requests_deferred 0\n'

describe('doctor: alert inputs per engine type', { skip }, () => {
  test('llama.cpp without a KV metric warns (a vLLM beside it does not hide it); b4748 passes', async (t) => {
    const newer = await startFakeEngine(llamacppRoutes({ metrics: LLAMACPP_NEWER }))
    t.after(() => newer.close())
    const vllm = await startFakeEngine(
      vllmRoutes({
        maxModelLen: 65536,
        metrics:
          'vllm:num_requests_running{model_name="m"} 0\nvllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.2\n',
      }),
    )
    t.after(() => vllm.close())
    const real = await startLlamaServer()
    t.after(() => real.close())
    const admin = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(GPU_TEXT)
    })
    const adminUrl = await listenLocal(admin)
    t.after(() => closeServer(admin))

    const host = (url: string) => new URL(url).host
    const engines = (llama: string) => [
      { type: 'llamacpp', targets: [host(llama)] },
      { type: 'vllm', targets: [host(vllm.url)] },
    ]
    const base = {
      upstream: newer.url,
      admin: host(adminUrl),
      engines: engines(newer.url),
      alerts: { profile: 'test', language: 'en' },
    }
    const stack = await startRulesStack(base)
    t.after(() => stack.close())
    const { prom } = stack
    const data = async (upstream: string) =>
      check(await runDoctor({ upstream, prometheus: prom.url, timeoutMs: 3000 }), 'prometheus.data')

    await waitUntil('both engines and the GPU scraped', async () => {
      const kv = await queryPrometheus(prom.url, 'llm:kv_cache_usage:ratio')
      const llama = await queryPrometheus(prom.url, 'llamacpp:requests_processing')
      const gpu = await queryPrometheus(prom.url, 'llm:gpu_memory_usage:ratio')
      return kv.length > 0 && llama.length > 0 && gpu.length > 0 ? true : undefined
    })
    const warned = await data(newer.url)
    assert.equal(warned.status, 'warn')
    assert.equal(
      warned.finding,
      'no data for KV-cache usage (LLMKVCacheHigh) from llm:kv_cache_usage:ratio{engine="llamacpp"} (only vllm have it): that alert cannot fire',
    )
    assert.match(
      warned.fix ?? '',
      /this llama\.cpp build does not export llamacpp:kv_cache_usage_ratio/,
    )
    // The vLLM itself has its KV series.
    const vllmData = await data(vllm.url)
    assert.equal(vllmData.status, 'pass', vllmData.finding)

    // Prometheus now scrapes the real llama.cpp b4748 instead.
    prom.writeFiles({
      'prometheus.yml': renderPrometheusConfig(
        parseConfig({ ...base, engines: engines(real.url), alertmanager: { url: stack.am.url } }),
      ),
    })
    await prom.reload()
    const passed = await waitUntil('b4748 KV usage recorded', async () => {
      const c = await data(real.url)
      return c.status === 'pass' ? c : undefined
    })
    assert.equal(
      passed.finding,
      'llm:gpu_memory_usage:ratio, llm:kv_cache_usage:ratio have data (engine llamacpp)',
    )
  })
})
