export { type ChatMessage, parseChatMessages, renderChatPrompt } from './chat-template.js'
export {
  createTokenCounter,
  type TokenCounter,
  type TokenCounterOptions,
  type WorkerAnalysis,
} from './counter.js'
export {
  analyzePromptBody,
  analyzePromptBytes,
  type Dialect,
  dialectOfPath,
  type GenerateHint,
  type PromptAnalysis,
  promptCountText,
} from './prompt.js'
export { loadQwen3Tokenizer, type Qwen3Tokenizer } from './qwen3.js'
