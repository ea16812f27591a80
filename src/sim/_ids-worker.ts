// Token ids for the simulator's /tokenize (vLLM, llama.cpp), off the main thread: the Qwen3
// tokenizer loads here on the first call only (about a second).
import { parentPort } from 'node:worker_threads'
import { loadQwen3Tokenizer, type Qwen3Tokenizer } from '../tokens/index.js'

let tokenizer: Promise<Qwen3Tokenizer> | undefined

parentPort?.on('message', (msg: { id: number; text: string }) => {
  tokenizer ??= loadQwen3Tokenizer()
  tokenizer.then(
    (t) => parentPort?.postMessage({ id: msg.id, ids: t.encode(msg.text) }),
    (err: unknown) => parentPort?.postMessage({ id: msg.id, error: String(err) }),
  )
})
