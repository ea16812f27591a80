import { z } from 'zod'

// Alert relay keys (README: Alert relay, Configuration).

const labelValues = z.union([z.string(), z.array(z.string()).min(1)])

const rateLimit = z.strictObject({
  /** At most this many messages per window to one robot. */
  max: z.int().positive(),
  windowMs: z.int().positive(),
})

const channel = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .regex(
        /^[A-Za-z0-9_.-]+$/,
        'use letters, digits, "_", "." or "-" (it becomes a metric label)',
      ),
    type: z.enum(['dingtalk', 'wecom', 'feishu', 'slack', 'webhook', 'file']),
    /** Robot / webhook URL (secret: keep the token in ${ENV}). */
    url: z.url({ protocol: /^https?$/ }).optional(),
    /** DingTalk 加签 secret (SEC...) or Feishu signature secret. */
    secret: z.string().min(1).optional(),
    /** type file: path to append to; "-" writes to stdout. */
    path: z.string().min(1).optional(),
    /** dingtalk: markdown | text; wecom: markdown | markdown_v2 | text; feishu: interactive | text. */
    msgType: z.enum(['markdown', 'markdown_v2', 'text', 'interactive', 'blocks']).optional(),
    /** Routing: label -> value(s); every key must match. `receiver` matches the Alertmanager receiver,
     * `model` any of model / model_name / gen_ai_request_model. Alerts that don't match are not sent. */
    match: z.record(z.string(), labelValues).optional(),
    /** Like match, with anchored regular expressions. */
    matchRe: z.record(z.string(), z.string()).optional(),
    sendResolved: z.boolean().default(true),
    /** Who to @ on firing messages. */
    mentions: z
      .strictObject({
        mobiles: z.array(z.string()).default([]),
        userIds: z.array(z.string()).default([]),
        all: z.boolean().default(false),
      })
      .optional(),
    /** Robot security keywords: the message is made to contain the first one if it has none. */
    keywords: z.array(z.string().min(1)).max(10).optional(),
    language: z.enum(['zh', 'en']).optional(),
    timezone: z.string().optional(),
    /** `{{placeholder}}` templates (README "relay"). */
    template: z
      .strictObject({ title: z.string().optional(), alert: z.string().optional() })
      .optional(),
    /** type webhook: JSON body template; placeholders are JSON-escaped. Omitted: the payload as is. */
    bodyTemplate: z.string().optional(),
    /** type webhook: extra request headers. */
    headers: z.record(z.string(), z.string()).optional(),
    /** Overrides the robot's documented limits. */
    rateLimits: z.array(rateLimit).optional(),
    /** Overrides the size limit of one message (bytes of UTF-8, as the robot measures it). */
    maxBytes: z.int().positive().optional(),
    dashboardUrl: z.string().optional(),
    timeoutMs: z.int().positive().optional(),
  })
  .superRefine((c, ctx) => {
    if (c.type === 'file' ? !c.path : !c.url) {
      ctx.addIssue({
        code: 'custom',
        message: `type ${c.type} needs ${c.type === 'file' ? 'path' : 'url'}`,
      })
    }
    const types: Record<string, readonly string[]> = {
      dingtalk: ['markdown', 'text'],
      wecom: ['markdown', 'markdown_v2', 'text'],
      feishu: ['interactive', 'text'],
      slack: ['blocks'],
      webhook: [],
      file: ['markdown', 'text'],
    }
    if (c.msgType && !types[c.type]?.includes(c.msgType)) {
      ctx.addIssue({
        code: 'custom',
        path: ['msgType'],
        message: `${c.type} takes msgType ${types[c.type]?.join(' | ') || '(none)'}`,
      })
    }
  })

export const relayShape = {
  relay: z
    .strictObject({
      language: z.enum(['zh', 'en']).default('zh'),
      timezone: z.string().default('Asia/Shanghai'),
      /** Bearer token required on POST /hooks/alertmanager when set. */
      hookToken: z.string().min(1).optional(),
      /** Repeats within this window are dropped; keep it below Alertmanager's repeat_interval. */
      dedupeWindowMs: z.int().nonnegative().default(300_000),
      /** The hook answers within this; still-pending deliveries answer 503 so Alertmanager retries
       * (a retry joins the pending delivery, nothing is sent twice). Below Alertmanager's 10 s floor. */
      hookTimeoutMs: z.int().positive().default(8_000),
      maxBodyBytes: z
        .int()
        .positive()
        .default(4 * 1024 * 1024),
      retry: z
        .strictObject({
          maxAttempts: z.int().positive().default(4),
          initialBackoffMs: z.int().nonnegative().default(1_000),
          maxBackoffMs: z.int().nonnegative().default(30_000),
        })
        .prefault({}),
      /** Default dashboard link for every message. */
      dashboardUrl: z.string().optional(),
      channels: z
        .array(channel)
        .default([])
        .refine((cs) => new Set(cs.map((c) => c.name)).size === cs.length, {
          message: 'channel names must be unique',
        }),
    })
    .prefault({}),
}

export type RelayConfigShape = z.infer<typeof relayShape.relay>
export type RelayChannelConfig = RelayConfigShape['channels'][number]
