// Prompt token counts for the simulator: the real Qwen3 tokenizer (src/tokens, in its worker),
// counted once per distinct prompt text and remembered, so a repeated body costs a map lookup.
// A prompt not yet counted gets an estimate at once (about 4 UTF-8 bytes a token) and its exact
// count later: the scheduler runs on the estimate and the answer's usage waits for the count.
// The UTF-8 length is also a hard upper bound (every byte-level BPE token covers at least one
// byte), which decides "fits in max_model_len" without waiting when it is far enough below.
import { createTokenCounter, type TokenCounter } from '../tokens/index.js'

export interface PromptCount {
  /** Exact when `exact`, else an estimate. */
  tokens: number
  exact: boolean
  /** At least the real count. */
  upperBound: number
  /** The exact count (the estimate if the tokenizer failed). */
  settled: Promise<number>
}

export interface PromptCounter {
  count(text: string): PromptCount
  warm(): Promise<void>
  close(): Promise<void>
}

const MAX_ENTRIES = 4096
const MAX_CACHED_CHARS = 64 * 1024 * 1024

export function createPromptCounter(
  counter: TokenCounter = createTokenCounter({ maxQueued: 8192 }),
): PromptCounter {
  const cache = new Map<string, number>()
  const inflight = new Map<string, Promise<number>>()
  let cachedChars = 0

  const remember = (text: string, tokens: number) => {
    if (text.length > MAX_CACHED_CHARS / 4) return
    cache.set(text, tokens)
    cachedChars += text.length
    for (const [k] of cache) {
      if (cache.size <= MAX_ENTRIES && cachedChars <= MAX_CACHED_CHARS) break
      cache.delete(k)
      cachedChars -= k.length
    }
  }

  return {
    count(text) {
      const bytes = Buffer.byteLength(text, 'utf8')
      const known = cache.get(text)
      if (known !== undefined) {
        return { tokens: known, exact: true, upperBound: known, settled: Promise.resolve(known) }
      }
      const estimate = bytes === 0 ? 0 : Math.max(1, Math.round(bytes / 4))
      if (bytes === 0) return { tokens: 0, exact: true, upperBound: 0, settled: Promise.resolve(0) }
      let settled = inflight.get(text)
      if (!settled) {
        settled = counter.countText(text).then((n) => {
          inflight.delete(text)
          if (n === undefined) return estimate
          remember(text, n)
          return n
        })
        inflight.set(text, settled)
      }
      return { tokens: estimate, exact: false, upperBound: bytes, settled }
    },
    async warm() {
      await counter.countText('warm')
    },
    close: () => counter.close(),
  }
}
