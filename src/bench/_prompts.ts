// Exact-length prompts for Qwen3 as the engine counts them. The corpus is split the way the
// tokenizer's pre-tokenizer splits text (the Qwen2 regex of tokenizer.json: byte-level BPE never
// merges across these pieces), each piece is encoded once, and a prompt of N tokens is a run of
// whole pieces whose counts add up to N, topped up with " the" (one token) when the next piece
// would overshoot. The whole corpus is re-encoded and checked against the sum of its pieces, and
// a chat prompt's template tokens (https://huggingface.co/Qwen/Qwen3-4B-Instruct-2507) are
// measured by rendering and encoding it. With `tokenIds` the prompt is the ids themselves
// (`/v1/completions` and llama.cpp take `prompt: number[]`), exact by construction.
import { AppError } from '../shared/index.js'
import { type Qwen3Tokenizer, renderChatPrompt } from '../tokens/index.js'
import { CORPUS } from './_corpus.js'
import { createRandom } from './_stats.js'

const PRETOKEN =
  /'s|'t|'re|'ve|'m|'ll|'d|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu
const FILL = ' the'
/** Tokens at the head of each prompt taken from a request-specific place in the corpus, so that
 * no two prompts share more than the configured prefix (the engine's prefix cache stays honest). */
const HEAD_TOKENS = 64
/** Rests at least this long are shared buffers; the cache of them is bounded in bytes. */
const TAIL_FROM_TOKENS = 1024
const TAIL_CACHE_BYTES = 256 * 1024 * 1024

export interface BuiltPrompt {
  /** Prompt text (chat: the user message's content), or its start when `tail` follows. */
  text?: string
  ids?: number[]
  /** The long rest of a long prompt: the same bytes for every prompt of this length, built and
   * encoded once and written as is (no copy per request). */
  tail?: SharedTail
  /** Tokens the engine counts for it (chat: the template included). */
  tokens: number
}

export interface SharedTail {
  text?: string
  ids?: number[]
  /** As it goes into the JSON body: the escaped string content, or `,id,id…` after the ids. */
  json: Buffer
}

/** The whole prompt text (test and check use; the wire writes `text` and `tail.json`). */
export function promptText(p: BuiltPrompt): string {
  return (p.text ?? '') + (p.tail?.text ?? '')
}

export interface PromptBuilder {
  /** Tokens the chat template adds around the content (0 for other endpoints). */
  templateTokens: number
  /** The next prompt of exactly `tokens` tokens. */
  next(tokens: number): BuiltPrompt
  /** Re-encodes `prompt` (chat: rendered) and returns the count: the builder's own check. */
  count(prompt: BuiltPrompt): number
}

export interface PromptBuilderOptions {
  corpus: CorpusAnalysis
  /** Only for `count` (the builder's self-check); building needs only the analysis. */
  tokenizer?: Qwen3Tokenizer
  chat: boolean
  tokenIds: boolean
  sharedPrefixTokens: number
  seed: number
}

/** The corpus as the tokenizer splits it: everything building needs, computed once. */
export interface CorpusAnalysis {
  /** Char offset where piece i starts (length pieces + 1). */
  charAt: number[]
  /** Tokens before piece i (length pieces + 1). */
  tokensAt: number[]
  /** Pieces that begin with a space and a letter: safe places to start a run. */
  starts: number[]
  ids: number[]
  total: number
  /** Tokens the chat template adds around a user message. */
  templateTokens: number
}

/** Runs the tokenizer over the corpus (about a second with loading: see _corpus-worker.ts). */
export function analyzeCorpus(tok: Qwen3Tokenizer): CorpusAnalysis {
  const charAt: number[] = [0]
  const tokensAt: number[] = [0]
  const starts: number[] = []
  const ids: number[] = []
  const cache = new Map<string, number[]>()
  let tokens = 0
  for (const m of CORPUS.matchAll(PRETOKEN)) {
    const piece = m[0]
    let pieceIds = cache.get(piece)
    if (!pieceIds) {
      pieceIds = tok.encode(piece)
      cache.set(piece, pieceIds)
    }
    if (/^ \p{L}/u.test(piece)) starts.push(charAt.length - 1)
    for (const id of pieceIds) ids.push(id)
    tokens += pieceIds.length
    charAt.push((m.index ?? 0) + piece.length)
    tokensAt.push(tokens)
  }
  const whole = tok.countTokens(CORPUS + CORPUS)
  if (
    charAt[charAt.length - 1] !== CORPUS.length ||
    whole !== 2 * tokens ||
    tok.countTokens(FILL) !== 1
  )
    throw new AppError(
      'INTERNAL',
      `prompt corpus: the pieces add up to ${tokens} tokens but the tokenizer counts ${whole / 2}`,
    )
  const templateTokens =
    tok.countTokens(renderChatPrompt([{ role: 'user', content: ' The' }])) - tok.countTokens(' The')
  return { charAt, tokensAt, starts, ids, total: tokens, templateTokens }
}

export function createPromptBuilder(options: PromptBuilderOptions): PromptBuilder {
  const tok = options.tokenizer
  const c = options.corpus
  const pieces = c.charAt.length - 1
  const rand = createRandom(options.seed ^ 0x5bd1e995)
  const templateTokens = options.chat && !options.tokenIds ? c.templateTokens : 0

  /** `n` tokens of whole pieces from piece `start`, cycling, topped up with FILL. */
  const segment = (start: number, n: number): string => {
    const parts: string[] = []
    let left = n
    let p = start
    // Whole rest-of-corpus runs and whole copies first, then piece by piece.
    const toEnd = c.total - (c.tokensAt[p] as number)
    if (left >= toEnd && toEnd > 0) {
      parts.push(CORPUS.slice(c.charAt[p]))
      left -= toEnd
      p = 0
      const copies = Math.floor(left / c.total)
      if (copies > 0) parts.push(CORPUS.repeat(copies))
      left -= copies * c.total
    }
    const from = c.charAt[p] as number
    let q = p
    while (left > 0) {
      const next = (c.tokensAt[q + 1] as number) - (c.tokensAt[q] as number)
      if (next > left || q >= pieces) break
      left -= next
      q++
    }
    parts.push(CORPUS.slice(from, c.charAt[q]))
    if (left > 0) parts.push(FILL.repeat(left))
    return parts.join('')
  }
  const pickStart = () => c.starts[Math.floor(rand() * c.starts.length)] as number
  const idRun = (offset: number, n: number, into: number[]) => {
    for (let i = 0; i < n; i++) into.push(c.ids[(offset + i) % c.ids.length] as number)
  }

  const prefixTokens = options.sharedPrefixTokens
  const prefixText = options.tokenIds ? '' : segment(c.starts[0] as number, prefixTokens)
  // The rest after the unique head starts at a fixed place: its bytes depend on its length only.
  const restStart = c.starts[Math.floor(c.starts.length / 2)] as number
  const tails = new Map<number, SharedTail>()
  let tailBytes = 0
  const tailOf = (n: number): SharedTail => {
    let t = tails.get(n)
    if (t) return t
    if (options.tokenIds) {
      const ids: number[] = []
      idRun(c.ids.length >> 1, n, ids)
      t = { ids, json: Buffer.from(`,${ids.join(',')}`) }
    } else {
      const text = segment(restStart, n)
      t = { text, json: Buffer.from(JSON.stringify(text).slice(1, -1)) }
    }
    tails.set(n, t)
    tailBytes += t.json.length
    for (const [k, v] of tails) {
      if (tailBytes <= TAIL_CACHE_BYTES || k === n) break
      tails.delete(k)
      tailBytes -= v.json.length
    }
    return t
  }

  return {
    templateTokens,
    next(tokens) {
      const content = tokens - templateTokens - prefixTokens
      if (content < 1 && tokens <= templateTokens)
        throw new AppError(
          'BENCH_PROMPT_TOO_SHORT',
          `a prompt of ${tokens} tokens leaves no room for content after the ${templateTokens} tokens of the chat template`,
          { hint: `use --input-tokens of at least ${templateTokens + 1}` },
        )
      if (content <= 0 && tokens > templateTokens) {
        // Shorter than the shared prefix: the prompt is all prefix (identical prompts).
        const n = tokens - templateTokens
        if (options.tokenIds) {
          const ids: number[] = []
          idRun(0, n, ids)
          return { ids, tokens }
        }
        return { text: segment(c.starts[0] as number, n), tokens }
      }
      const head = Math.min(HEAD_TOKENS, content)
      const rest = content - head
      const shared = rest >= TAIL_FROM_TOKENS
      if (options.tokenIds) {
        const ids: number[] = []
        idRun(0, prefixTokens, ids)
        idRun(Math.floor(rand() * c.ids.length), head, ids)
        if (shared) return { ids, tail: tailOf(rest), tokens }
        idRun(Math.floor(rand() * c.ids.length), rest, ids)
        return { ids, tokens }
      }
      const text = prefixText + segment(pickStart(), head)
      if (shared) return { text, tail: tailOf(rest), tokens }
      return { text: rest > 0 ? text + segment(pickStart(), rest) : text, tokens }
    },
    count(prompt) {
      if (prompt.ids) return prompt.ids.length + (prompt.tail?.ids?.length ?? 0)
      if (!tok) throw new Error('PromptBuilder.count needs the tokenizer')
      const text = promptText(prompt)
      return options.chat
        ? tok.countTokens(renderChatPrompt([{ role: 'user', content: text }]))
        : tok.countTokens(text)
    },
  }
}
