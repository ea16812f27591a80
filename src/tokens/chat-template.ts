// Qwen3-4B-Instruct-2507's chat template (ChatML), rendered in TypeScript exactly as the Jinja
// template does for the cases that matter to counting: system / user / assistant (+ tool_calls) /
// tool turns, an optional `tools` block, and the generation prompt. The 2507 Instruct template is
// the hybrid Qwen3 template without the <think> handling
// (https://huggingface.co/Qwen/Qwen3-4B-Instruct-2507/blob/main/tokenizer_config.json).
// vLLM flattens OpenAI content-part arrays to their text parts joined with "\n" before templating.

export interface ChatToolCall {
  name: string
  arguments: unknown
}

export interface ChatMessage {
  role: string
  content: string
  toolCalls?: ChatToolCall[]
}

/** Parses an OpenAI `messages` array; undefined when the shape is not one. */
export function parseChatMessages(value: unknown): ChatMessage[] | undefined {
  if (!Array.isArray(value)) return undefined
  const out: ChatMessage[] = []
  for (const m of value) {
    if (typeof m !== 'object' || m === null) return undefined
    const rec = m as Record<string, unknown>
    if (typeof rec.role !== 'string') return undefined
    const msg: ChatMessage = { role: rec.role, content: flattenContent(rec.content) }
    const calls = parseToolCalls(rec.tool_calls)
    if (calls) msg.toolCalls = calls
    out.push(msg)
  }
  return out
}

function flattenContent(content: unknown): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  const parts: string[] = []
  for (const p of content) {
    if (typeof p === 'string') parts.push(p)
    else if (
      typeof p === 'object' &&
      p !== null &&
      typeof (p as { text?: unknown }).text === 'string'
    )
      parts.push((p as { text: string }).text)
  }
  return parts.join('\n')
}

function parseToolCalls(value: unknown): ChatToolCall[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined
  const calls: ChatToolCall[] = []
  for (const c of value) {
    if (typeof c !== 'object' || c === null) continue
    const rec = c as Record<string, unknown>
    const fn = (
      typeof rec.function === 'object' && rec.function !== null ? rec.function : rec
    ) as Record<string, unknown>
    calls.push({ name: typeof fn.name === 'string' ? fn.name : '', arguments: fn.arguments ?? {} })
  }
  return calls
}

/** Python's json.dumps defaults (", " and ": " separators, non-ASCII kept), as Jinja's tojson in HF. */
export function pythonJsonDumps(value: unknown): string {
  if (value === null || value === undefined) return 'null'
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(', ')}]`
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).map(
      ([k, v]) => `${JSON.stringify(k)}: ${pythonJsonDumps(v)}`,
    )
    return `{${entries.join(', ')}}`
  }
  return JSON.stringify(value)
}

const TOOLS_HEAD =
  '# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>'
const TOOLS_TAIL =
  '\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call><|im_end|>\n'

/** The prompt text the engine tokenizes for a chat request (add_generation_prompt = true). */
export function renderChatPrompt(
  messages: readonly ChatMessage[],
  tools?: readonly unknown[],
): string {
  let s = ''
  const first = messages[0]
  if (tools && tools.length > 0) {
    s += '<|im_start|>system\n'
    if (first?.role === 'system') s += `${first.content}\n\n`
    s += TOOLS_HEAD
    for (const t of tools) s += `\n${pythonJsonDumps(t)}`
    s += TOOLS_TAIL
  } else if (first?.role === 'system') {
    s += `<|im_start|>system\n${first.content}<|im_end|>\n`
  }
  messages.forEach((m, i) => {
    if (m.role === 'user' || (m.role === 'system' && i !== 0)) {
      s += `<|im_start|>${m.role}\n${m.content}<|im_end|>\n`
    } else if (m.role === 'assistant') {
      s += `<|im_start|>${m.role}\n${m.content}`
      m.toolCalls?.forEach((c, j) => {
        if ((j === 0 && m.content) || j > 0) s += '\n'
        const args = typeof c.arguments === 'string' ? c.arguments : pythonJsonDumps(c.arguments)
        s += `<tool_call>\n{"name": "${c.name}", "arguments": ${args}}\n</tool_call>`
      })
      s += '<|im_end|>\n'
    } else if (m.role === 'tool') {
      if (i === 0 || messages[i - 1]?.role !== 'tool') s += '<|im_start|>user'
      s += `\n<tool_response>\n${m.content}\n</tool_response>`
      if (i === messages.length - 1 || messages[i + 1]?.role !== 'tool') s += '<|im_end|>\n'
    }
  })
  return `${s}<|im_start|>assistant\n`
}
