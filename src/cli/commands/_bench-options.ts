import type { OptionSpec } from '../command.js'

const s = (valueName: string, description: string): OptionSpec => ({
  type: 'string',
  valueName,
  description,
})
const b = (description: string): OptionSpec => ({ type: 'boolean', description })

/** `inferwatch bench` flags, in the order --help lists them. */
export const BENCH_OPTIONS: Record<string, OptionSpec> = {
  target: s('URL', 'server to load: the proxy or the engine, base URL (required)'),
  model: s('M', 'model name to send (default: the first one /v1/models lists)'),
  endpoint: s('E', 'chat, completions, tgi-generate, vllm-generate or llamacpp (default chat)'),
  'input-tokens': s(
    'N',
    'prompt length in Qwen3 tokens as the engine counts them, chat template included (default 1024)',
  ),
  'input-dist': s('D', 'fixed, uniform or normal around --input-tokens (default fixed)'),
  'input-spread': s('F', 'uniform: ±F×N; normal: std F×N, cut at 3 std (default 0.25)'),
  'output-tokens': s(
    'N',
    'tokens to generate per request (default 128; EOS ignored unless --no-ignore-eos)',
  ),
  'output-dist': s('D', 'fixed, uniform or normal around --output-tokens (default fixed)'),
  'output-spread': s('F', 'as --input-spread, for outputs (default 0.25)'),
  'shared-prefix': s(
    'N',
    'tokens every prompt starts with, the same text (prefix-cache hits; default 0)',
  ),
  'token-ids': b('completions / llamacpp: send prompts as token ids (exact by construction)'),
  'no-stream': b('ask for whole answers (TTFT is then the whole latency)'),
  'no-ignore-eos': b('do not send ignore_eos (outputs may end early)'),
  requests: s('N', 'measured requests (default 100, or the scenario duration)'),
  duration: s('D', 'stop issuing after D, e.g. 90s, 5m'),
  concurrency: s(
    'N',
    'requests in flight (closed loop; with --rate: the most in flight; default 1)',
  ),
  rate: s('R', 'open loop: R requests per second, Poisson unless --arrivals constant'),
  arrivals: s('A', 'poisson (default) or constant spacing, with --rate'),
  burstiness: s(
    'G',
    'with --rate: gaps ~ Gamma(shape G), 1 = Poisson, below 1 burstier (default 1)',
  ),
  sweep: b(
    'synchronous, then all-out at --concurrency (default 256), then rates in between until saturated',
  ),
  'sweep-steps': s('N', 'rates tried between the two (default 6)'),
  warmup: s('N', 'requests sent first and not measured, at --concurrency (default 1)'),
  timeout: s('D', 'per request, send to last byte (default 600s)'),
  'max-error-rate': s('F', 'stop issuing once this share of finished requests failed (after 10)'),
  slo: s('LIST', 'goodput SLO, e.g. ttft=500ms,tpot=50ms,e2e=20s'),
  metrics: {
    type: 'string',
    multiple: true,
    valueName: 'URL',
    description: 'a /metrics to cross-check against (proxy admin, engine); repeatable',
  },
  'sample-interval': s('D', 'how often --metrics gauges are sampled during the run (default 1s)'),
  scenario: s('S', 'long-context (sized to trip LLMLongContextOverload) or chat (a realistic mix)'),
  'long-from-tokens': s('N', 'long-context threshold the scenario must reach (default 100000)'),
  seed: s('N', 'seed for lengths, prompts and arrivals (default 0)'),
  out: s('DIR', 'where the JSON and HTML go (default bench-results)'),
  name: s('NAME', 'file name of the run (default <endpoint>-<shape>-<model>-<time>)'),
  'api-key-env': s(
    'VAR',
    'environment variable holding the API key (default INFERWATCH_API_KEY, then OPENAI_API_KEY)',
  ),
  quiet: b('no progress lines on stderr'),
}
