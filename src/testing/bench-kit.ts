import { before, type TestContext } from 'node:test'
import {
  type BenchOptions,
  type CorpusAnalysis,
  type LoadSpec,
  loadCorpusAnalysis,
  type PromptSpec,
  type TargetSpec,
} from '../bench/index.js'
import {
  type EngineSimulator,
  type EngineSimulatorOptions,
  type ScriptedEngine,
  type ScriptedEngineOptions,
  startScriptedEngine,
  startSimulator,
} from '../sim/index.js'

// Helpers for the bench's own tests; nothing but *.test.ts imports this file.

type After = Pick<TestContext, 'after'>

/**
 * The simulator on a free 127.0.0.1 port, closed after the test: vLLM serving Qwen3-4B-Instruct-2507
 * on an H200 at 0.9, 50 times real time, unless `over` says otherwise. Its tokenizer is warmed
 * before it returns unless `warmTokenizer` is false.
 */
export async function startTestSimulator(
  t: After,
  over: Partial<EngineSimulatorOptions> = {},
  { warmTokenizer = true } = {},
): Promise<EngineSimulator> {
  const sim = await startSimulator({
    engine: 'vllm',
    model: 'qwen3-4b-instruct-2507',
    gpu: 'h200',
    gpuMemoryUtilization: 0.9,
    speed: 50,
    host: '127.0.0.1',
    port: 0,
    ...over,
  })
  t.after(() => sim.close())
  if (warmTokenizer) await sim.warmTokenizer()
  return sim
}

/** The scripted engine on a free 127.0.0.1 port, closed after the test. */
export async function startTestEngine(
  t: After,
  options: Partial<ScriptedEngineOptions>,
): Promise<ScriptedEngine> {
  const engine = await startScriptedEngine(options)
  t.after(() => engine.close())
  return engine
}

/**
 * The prompt corpus, analysed once for the test file (a `before` hook, so call this at the top
 * level); the function returned reads it inside a test.
 */
export function corpusBeforeTests(): () => CorpusAnalysis {
  let corpus: CorpusAnalysis | undefined
  before(async () => {
    corpus = await loadCorpusAnalysis()
  })
  return () => {
    if (!corpus) throw new Error('the corpus is read before its before hook ran')
    return corpus
  }
}

/** What a test changes of benchTestOptions' defaults; target, load and prompts key by key. */
export interface BenchTestOverrides
  extends Partial<Omit<BenchOptions, 'target' | 'load' | 'prompts'>> {
  target?: Partial<Omit<TargetSpec, 'baseUrl'>>
  load?: Partial<LoadSpec>
  prompts?: Partial<PromptSpec>
}

/**
 * Bench options against `baseUrl`: chat, streamed, EOS ignored, text prompts, model `m`; a closed
 * loop of 10 requests, 1 in flight, no warm-up, a 10 s timeout, seed 1; 64 tokens in, 4 out, no
 * shared prefix; nothing scraped (sampling every second). `over` replaces any of it.
 */
export function benchTestOptions(baseUrl: string, over: BenchTestOverrides = {}): BenchOptions {
  const { target, load, prompts, ...rest } = over
  return {
    target: {
      baseUrl,
      endpoint: 'chat',
      model: 'm',
      stream: true,
      ignoreEos: true,
      tokenIds: false,
      ...target,
    },
    load: {
      arrivals: { kind: 'closed' },
      maxConcurrency: 1,
      requests: 10,
      warmupRequests: 0,
      timeoutMs: 10_000,
      seed: 1,
      ...load,
    },
    prompts: {
      input: { kind: 'fixed', tokens: 64 },
      output: { kind: 'fixed', tokens: 4 },
      sharedPrefixTokens: 0,
      ...prompts,
    },
    metricsUrls: [],
    sampleEveryMs: 1000,
    ...rest,
  }
}
