// Local fakes of the chat APIs the relay talks to, for tests and demos.
export type { FakeChat, FakeRequest, TransientKind } from './_core.js'
export { dingtalkSignature, type FakeDingtalkOptions, startFakeDingtalk } from './dingtalk.js'
export { type FakeFeishuOptions, feishuSignature, startFakeFeishu } from './feishu.js'
export { type FakeSlackOptions, startFakeSlack, startFakeWebhook } from './slack.js'
export { type FakeWecomOptions, startFakeWecom } from './wecom.js'
