import type { PromptAnalysis } from './prompt.js'

/** What the worker reports about a request body it parsed. */
export interface WorkerAnalysis extends Omit<PromptAnalysis, 'promptText' | 'morePromptTexts'> {
  /** UTF-16 length of the prompt text (to strip an echoed prompt from vLLM demo output). */
  promptChars: number | undefined
  /** Counted (or id-array) prompt tokens; undefined when short or not countable. */
  promptTokens: number | undefined
  /** The prompt's UTF-8 length is under the threshold: short, not tokenized. */
  short: boolean
}

export type WorkerRequest =
  | { id: number; kind: 'count'; text: string }
  | {
      id: number
      kind: 'analyze'
      path: string
      bytes: Uint8Array
      hint: string
      shortBelowBytes: number
    }

export type WorkerReply =
  | { id: number; tokens: number; tokenizerLoaded: boolean }
  | {
      id: number
      analysis: WorkerAnalysis | undefined
      tokenizerLoaded: boolean
      /** The body's buffer, transferred back once decoded, for the next large body. */
      spare?: ArrayBuffer
    }
  | { id: number; error: string; tokenizerLoaded: boolean }
