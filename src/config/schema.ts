import { z } from 'zod'
import { attributionShape } from './_attribution.js'
import { costShape } from './_cost.js'
import { dashboardShape } from './_dashboard.js'
import { gpuShape } from './_gpu.js'
import { k8sShape } from './_k8s.js'
import { proxyShape } from './_proxy.js'
import { relayShape } from './_relay.js'
import { rulesShape } from './_rules.js'
import { stackShape } from './_stack.js'

/** inferwatch.yaml: every key optional, unknown keys rejected. Each area owns its `_area.ts`. */
export const configSchema = z.strictObject({
  ...proxyShape,
  ...gpuShape,
  ...rulesShape,
  ...k8sShape,
  ...relayShape,
  ...dashboardShape,
  ...stackShape,
  ...attributionShape,
  ...costShape,
})

export type Config = z.infer<typeof configSchema>
