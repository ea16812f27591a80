// The alert relay (issue 5): Alertmanager webhook -> DingTalk, WeCom, Feishu/Lark, Slack,
// generic webhooks and files. Research: shared/research/alerting.md.
export { signDingtalk, signedDingtalkUrl } from './_dingtalk.js'
export { signFeishu } from './_feishu.js'
export {
  type AlertStatus,
  type Notification,
  parseAlertmanagerPayload,
  type RelayAlert,
} from './_payload.js'
export type { RelayChannelConfig, RelayConfig } from './_types.js'
export {
  type AlertmanagerHook,
  type AlertmanagerHookOptions,
  type ChannelOutcome,
  createAlertmanagerHook,
  type HookReply,
} from './hook.js'
export { HOOK_PATH, type RelayServer, type RelayServerOptions, startRelayServer } from './server.js'
