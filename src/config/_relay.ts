import { z } from 'zod'

// Alert relay keys (issue 5; design.md "Config contract").
const channel = z
  .strictObject({
    name: z.string().min(1),
    type: z.enum(['dingtalk', 'wecom', 'feishu', 'slack', 'webhook', 'file']),
    url: z.string().optional(),
    secret: z.string().optional(),
    path: z.string().optional(),
  })
  .loose()

export const relayShape = {
  relay: z
    .strictObject({
      language: z.enum(['zh', 'en']).default('zh'),
      timezone: z.string().default('Asia/Shanghai'),
      channels: z.array(channel).default([]),
    })
    .loose()
    .prefault({}),
}
