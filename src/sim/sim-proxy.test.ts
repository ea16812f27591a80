import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startTestProxyService } from '../testing/proxy-service.js'
import { readHistogram } from '../testing/registry-values.js'
import { type SimEngine, startSimulator } from './index.js'

// The real proxy service (src/server) in front of each simulated engine: every request format
// the engine serves, streamed and not, goes through the meter, and the tokens it records equal the
// usage the simulator reported (its prompt counts from the Qwen3 tokenizer, one token per output
// word), request for request.

type Call = [path: string, body: Record<string, unknown>]

const chat = (stream: boolean, usage: boolean): Record<string, unknown> => ({
  messages: [
    { role: 'system', content: 'Answer briefly.' },
    { role: 'user', content: 'Why do GPUs need so much memory bandwidth for decoding?' },
  ],
  max_tokens: 12,
  stream,
  ...(usage ? { stream_options: { include_usage: true } } : {}),
})

const CALLS: Record<SimEngine, Call[]> = {
  vllm: [
    ['/v1/chat/completions', chat(true, true)],
    ['/v1/chat/completions', chat(false, false)],
    [
      '/v1/completions',
      {
        prompt: 'The KV cache of a transformer holds',
        max_tokens: 9,
        stream: true,
        stream_options: { include_usage: true },
      },
    ],
    ['/v1/completions', { prompt: [11, 22, 33, 44, 55], max_tokens: 5 }],
  ],
  sglang: [
    [
      '/generate',
      { text: 'Continuous batching means', sampling_params: { max_new_tokens: 7 }, stream: true },
    ],
    ['/generate', { text: 'Chunked prefill means', sampling_params: { max_new_tokens: 6 } }],
    ['/v1/chat/completions', chat(true, true)],
  ],
  tgi: [
    ['/generate', { inputs: 'Paged attention stores', parameters: { max_new_tokens: 8 } }],
    ['/generate_stream', { inputs: 'Preemption by recompute', parameters: { max_new_tokens: 10 } }],
    ['/v1/chat/completions', chat(false, false)],
  ],
  llamacpp: [
    ['/completion', { prompt: 'A slot in llama-server is', n_predict: 6, stream: true }],
    ['/completion', { prompt: 'The context size is', n_predict: 4 }],
    ['/v1/chat/completions', chat(true, true)],
  ],
}

test('the proxy meters exactly the tokens each simulated engine reported', async (t) => {
  for (const engine of ['vllm', 'sglang', 'tgi', 'llamacpp'] as const) {
    const sim = await startSimulator({
      engine,
      model: 'qwen3-4b-instruct-2507',
      gpu: 'l40s',
      gpuMemoryUtilization: 0.85,
      speed: 50,
      host: '127.0.0.1',
      port: 0,
    })
    t.after(() => sim.close())
    await sim.warmTokenizer()
    const service = await startTestProxyService(t, sim.url)
    await service.refresh()
    for (const [path, body] of CALLS[engine]) {
      const res = await fetch(`${service.proxyUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: sim.model, ...body }),
      })
      assert.equal(res.status, 200, `${engine} ${path}: ${await res.clone().text()}`)
      await res.arrayBuffer()
    }
    await service.settled()
    const used = sim.usage()
    assert.equal(used.requests, CALLS[engine].length, engine)
    const input = await readHistogram(service.registry, 'gen_ai_client_token_usage', {
      gen_ai_token_type: 'input',
    })
    const output = await readHistogram(service.registry, 'gen_ai_client_token_usage', {
      gen_ai_token_type: 'output',
    })
    assert.deepEqual(
      { requests: input.count, promptTokens: input.sum, completionTokens: output.sum },
      used,
      `${engine}: metered vs reported`,
    )
    const duration = await readHistogram(
      service.registry,
      'gen_ai_server_request_duration_seconds',
      {
        gen_ai_provider_name: engine,
        error_type: '',
      },
    )
    assert.equal(duration.count, CALLS[engine].length, `${engine}: provider label`)
  }
})
