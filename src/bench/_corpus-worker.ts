// Analyses the prompt corpus in a worker thread, so the Qwen3 tokenizer (~175 MB of heap) lives
// and dies there: the load loop's heap stays small and its garbage collections short.
import { parentPort } from 'node:worker_threads'
import { loadQwen3Tokenizer } from '../tokens/index.js'
import { analyzeCorpus } from './_prompts.js'

try {
  parentPort?.postMessage({ ok: true, corpus: analyzeCorpus(await loadQwen3Tokenizer()) })
} catch (err) {
  parentPort?.postMessage({ ok: false, message: (err as Error).message })
}
