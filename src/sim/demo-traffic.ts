// A little mixed traffic for `inferwatch demo`: chat and completions, streamed and not, two
// long-context-sized prompts (medium and long class by default thresholds), one malformed body.

export interface DemoTrafficResult {
  sent: number
  statuses: number[]
}

function chat(model: string, content: string, stream: boolean, maxTokens: number): string {
  return JSON.stringify({
    model,
    messages: [{ role: 'user', content }],
    max_tokens: maxTokens,
    stream,
    ...(stream ? { stream_options: { include_usage: true } } : {}),
  })
}

/** Roughly `tokens` Qwen3 tokens of text (" word" is one token each). */
export function promptOfTokens(tokens: number): string {
  return ' hello'.repeat(tokens)
}

export async function sendDemoTraffic(
  proxyUrl: string,
  model: string,
  options: { fetch?: typeof globalThis.fetch; longTokens?: number; mediumTokens?: number } = {},
): Promise<DemoTrafficResult> {
  const doFetch = options.fetch ?? globalThis.fetch
  const post = async (path: string, body: string) => {
    const res = await doFetch(`${proxyUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    })
    await res.arrayBuffer()
    return res.status
  }
  const jobs: (() => Promise<number>)[] = [
    () => post('/v1/chat/completions', chat(model, 'What is KV cache?', true, 12)),
    () => post('/v1/chat/completions', chat(model, 'Explain TTFT in one line.', true, 8)),
    () => post('/v1/chat/completions', chat(model, 'Hello!', false, 6)),
    () =>
      post(
        '/v1/completions',
        JSON.stringify({ model, prompt: 'The capital of France is', max_tokens: 5 }),
      ),
    () =>
      post(
        '/v1/completions',
        JSON.stringify({ model, prompt: 'Once upon a time', max_tokens: 10, stream: true }),
      ),
    () => post('/v1/chat/completions', chat('some-other-model', 'Which model am I?', true, 4)),
    () =>
      post(
        '/v1/chat/completions',
        chat(model, promptOfTokens(options.mediumTokens ?? 40_000), true, 8),
      ),
    () =>
      post(
        '/v1/chat/completions',
        chat(model, promptOfTokens(options.longTokens ?? 110_000), true, 8),
      ),
    () => post('/v1/chat/completions', '{"model": "qwen3", "messages": ['),
  ]
  const statuses: number[] = []
  // Two at a time: overlapping requests, like real clients.
  for (let i = 0; i < jobs.length; i += 2) {
    const batch = jobs.slice(i, i + 2).map((j) => j().catch(() => 0))
    statuses.push(...(await Promise.all(batch)))
  }
  return { sent: jobs.length, statuses }
}
