// The alert relay: Alertmanager webhook -> DingTalk, WeCom, Feishu/Lark, Slack, generic webhooks
// and files (README: Alert relay).
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
