// The token worker: Qwen3 tokenization and large-body parsing off the main thread, so the proxy's
// event loop never stalls. The tokenizer (~1 s, ~175-200 MB) loads on the first count only.
import { parentPort } from 'node:worker_threads'
import type { WorkerReply, WorkerRequest } from './_protocol.js'
import { createSliceCounter, type SliceCounter } from './_slices.js'
import { analyzePromptBytes, type GenerateHint, promptCountText } from './prompt.js'
import { loadQwen3Tokenizer, type Qwen3Tokenizer } from './qwen3.js'

let tokenizer: Promise<Qwen3Tokenizer> | undefined
let sliced: SliceCounter | undefined
const count = async (text: string) => {
  tokenizer ??= loadQwen3Tokenizer()
  const tok = await tokenizer
  // Long texts in slices whose counts are kept: a prompt sent again is not tokenized again.
  sliced ??= createSliceCounter((t) => tok.countTokens(t))
  return sliced.count(text)
}

async function handle(msg: WorkerRequest): Promise<WorkerReply> {
  if (msg.kind === 'count') {
    return { id: msg.id, tokens: await count(msg.text), tokenizerLoaded: true }
  }
  const a = analyzePromptBytes(msg.path, msg.bytes, msg.hint as GenerateHint)
  // Decoded: the bytes are not read again, and their buffer goes back for reuse (counter.ts).
  const spare = msg.bytes.buffer instanceof ArrayBuffer ? msg.bytes.buffer : undefined
  if (!a)
    return { id: msg.id, analysis: undefined, tokenizerLoaded: tokenizer !== undefined, spare }
  const { promptText, morePromptTexts: _more, ...rest } = a
  const counted = promptCountText(a)
  let promptTokens = a.promptIdCount
  let short = false
  if (counted !== undefined) {
    // A byte-level BPE token is at least one byte: fewer bytes than the threshold is short.
    if (Buffer.byteLength(counted.text, 'utf8') < msg.shortBelowBytes) short = true
    else promptTokens = (await count(counted.text)) - counted.separators
  }
  return {
    id: msg.id,
    analysis: { ...rest, promptChars: promptText?.length, promptTokens, short },
    tokenizerLoaded: tokenizer !== undefined,
    spare,
  }
}

parentPort?.on('message', (msg: WorkerRequest) => {
  handle(msg).then(
    (reply) => parentPort?.postMessage(reply, 'spare' in reply && reply.spare ? [reply.spare] : []),
    (err: unknown) =>
      parentPort?.postMessage({
        id: msg.id,
        error: err instanceof Error ? err.message : String(err),
        tokenizerLoaded: tokenizer !== undefined,
      } satisfies WorkerReply),
  )
})
