import { z } from 'zod'
import { gpuShape } from './_gpu.js'
import { proxyShape } from './_proxy.js'
import { relayShape } from './_relay.js'
import { rulesShape } from './_rules.js'

/** inferwatch.yaml: every key optional, unknown keys rejected. Each area owns its `_area.ts`. */
export const configSchema = z.strictObject({
  ...proxyShape,
  ...gpuShape,
  ...rulesShape,
  ...relayShape,
})

export type Config = z.infer<typeof configSchema>
