import { z } from 'zod'

// Shapes of the engines' discovery bodies, as their servers define them:
// https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html,
// https://github.com/huggingface/text-generation-inference/blob/main/router/src/server.rs,
// https://docs.sglang.io/basic_usage/native_api.html,
// https://github.com/ggml-org/llama.cpp/blob/master/tools/server/README.md. Only the fields we
// read are declared; engines add fields between releases, so extra keys are allowed (z.object
// strips them) but the declared ones must have the right types.

const finitePositive = z.number().int().positive()

/** OpenAI `GET /v1/models`: vLLM adds `max_model_len` and `owned_by: "vllm"`; llama.cpp `meta`. */
export const modelsListSchema = z.object({
  data: z.array(
    z.object({
      id: z.string().min(1),
      owned_by: z.string().optional(),
      root: z.string().nullish(),
      parent: z.string().nullish(),
      max_model_len: finitePositive.nullish(),
      meta: z.object({ n_ctx_train: finitePositive.nullish() }).nullish(),
    }),
  ),
})

/** vLLM `GET /version`. */
export const versionSchema = z.object({ version: z.string().min(1) })

/** TGI `GET /info` (router/src/lib.rs Info). */
export const tgiInfoSchema = z.object({
  model_id: z.string().min(1),
  max_total_tokens: finitePositive,
  max_input_tokens: finitePositive.nullish(),
  version: z.string().nullish(),
  router: z.string().nullish(),
})

/** llama.cpp `GET /props` (tools/server/README.md). */
export const llamaPropsSchema = z.object({
  default_generation_settings: z.object({ n_ctx: finitePositive.nullish() }),
  total_slots: z.number().int().nullish(),
  model_path: z.string().nullish(),
  model_alias: z.string().nullish(),
  endpoint_metrics: z.boolean().nullish(),
  build_info: z.string().nullish(),
})

/** SGLang `GET /get_model_info`. */
export const sglangModelInfoSchema = z.object({
  model_path: z.string().min(1),
  is_generation: z.boolean().nullish(),
})

/** SGLang `GET /get_server_info` (newer: `/server_info`): server args + scheduler info. */
export const sglangServerInfoSchema = z.object({
  model_path: z.string().min(1),
  context_length: finitePositive.nullish(),
  mem_fraction_static: z.number().gt(0).lte(1).nullish(),
  max_total_num_tokens: finitePositive.nullish(),
  served_model_name: z.string().nullish(),
  version: z.string().nullish(),
})

/** llama.cpp's OpenAI-style error body, e.g. 503 "Loading model" and 501 "Start it with `--metrics`". */
export const llamaErrorSchema = z.object({
  error: z.object({ code: z.number().int(), message: z.string(), type: z.string() }),
})

export type ModelsList = z.infer<typeof modelsListSchema>
export type TgiInfo = z.infer<typeof tgiInfoSchema>
export type LlamaProps = z.infer<typeof llamaPropsSchema>
export type SglangModelInfo = z.infer<typeof sglangModelInfoSchema>
export type SglangServerInfo = z.infer<typeof sglangServerInfoSchema>

/** Parses JSON then validates; undefined when either fails (a probe that does not match). */
export function parseJsonAs<T>(schema: z.ZodType<T>, body: string): T | undefined {
  let value: unknown
  try {
    value = JSON.parse(body)
  } catch {
    return undefined
  }
  const result = schema.safeParse(value)
  return result.success ? result.data : undefined
}
