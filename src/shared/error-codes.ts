// Every stable error code, by area. docs/errors.md lists each one; errors-doc.test.ts keeps the
// two in step. Add a code here and a line there in the same change.
export const ERROR_CODES = [
  // cli / config
  'USAGE',
  'CONFIG_NOT_FOUND',
  'CONFIG_INVALID',
  'CONFIG_ENV_MISSING',
  // proxy
  'PROXY_LISTEN_FAILED',
  'UPSTREAM_URL_INVALID',
  // server (admin endpoints)
  'ADMIN_LISTEN_FAILED',
  // rules
  'RULES_OUT_DIR',
  // gpu
  'GPU_SMI_FAILED',
  // engines / doctor / plan
  'ENGINE_UNREACHABLE',
  'METRICS_PARSE_FAILED',
  'PLAN_UNKNOWN_MODEL',
  'PLAN_UNKNOWN_GPU',
  // relay
  'RELAY_PAYLOAD_INVALID',
  'RELAY_DELIVERY_FAILED',
  'RELAY_LISTEN_FAILED',
  // sim
  'SIM_LISTEN_FAILED',
  // bench
  'BENCH_TARGET_UNREACHABLE',
  'BENCH_PROMPT_TOO_SHORT',
  'BENCH_METRICS_UNREACHABLE',
  'BENCH_OUT_DIR',
  'BENCH_RESULT_INVALID',
  'BENCH_SCENARIO_UNFIT',
  // stack (inferwatch up)
  'STACK_BINARY_MISSING',
  'STACK_PORT_IN_USE',
  'STACK_CHILD_FAILED',
  'STACK_DATA_DIR',
  'STACK_ALREADY_RUNNING',
  // generic
  'INTERNAL',
] as const

export type ErrorCode = (typeof ERROR_CODES)[number]
