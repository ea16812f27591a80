import { once } from 'node:events'
import { Worker } from 'node:worker_threads'
import { AppError } from '../shared/index.js'
import type { Qwen3Tokenizer } from '../tokens/index.js'
import { analyzeCorpus, type CorpusAnalysis } from './_prompts.js'

/** The corpus analysis: with `tokenizer` on this thread (tests), else in a short-lived worker. */
export async function loadCorpusAnalysis(tokenizer?: Qwen3Tokenizer): Promise<CorpusAnalysis> {
  if (tokenizer) return analyzeCorpus(tokenizer)
  const worker = new Worker(new URL('./_corpus-worker.js', import.meta.url))
  try {
    const [msg] = (await once(worker, 'message')) as [
      { ok: boolean; corpus?: CorpusAnalysis; message?: string },
    ]
    if (!msg.ok || !msg.corpus) throw new Error(msg.message ?? 'no answer')
    return msg.corpus
  } catch (cause) {
    throw new AppError(
      'INTERNAL',
      `the prompt builder's tokenizer worker failed: ${(cause as Error).message}`,
      { cause },
    )
  } finally {
    void worker.terminate()
  }
}
