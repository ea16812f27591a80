import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { Config } from '../config/index.js'
import { AppError } from '../shared/index.js'
import { type PlanOverrides, planRules, type RulesPlan } from './_plan.js'
import { renderAlertmanagerConfig } from './alertmanager-config.js'
import { renderGrafanaDashboard } from './grafana.js'
import {
  renderK8sMonitors,
  renderK8sPrometheusRule,
  renderK8sProxy,
  renderK8sSecret,
} from './k8s.js'
import { renderPrometheusConfig } from './prometheus-config.js'
import { RULE_TESTS_FILE, RULES_FILE, renderRuleFile } from './rule-files.js'
import { renderRuleTests } from './rule-tests.js'

/** CUDA context and allocator overhead nvidia-smi shows on top of vLLM's pre-allocated share. */
const CONTEXT_OVERHEAD_RATIO = 0.02

/**
 * Warnings about the config: vLLM (and SGLang's --mem-fraction-static) pre-allocate a fixed share
 * of the card at start, so nvidia-smi reads about that much from the first second (README: Runbook,
 * LLMGPUMemoryHigh). A GPU-memory threshold at or below it fires all the time.
 */
export function checkRulesPlan(plan: RulesPlan): string[] {
  const warnings: string[] = []
  const threshold = plan.thresholds.gpuMemoryRatio
  for (const e of plan.engines) {
    const u = e.gpuMemoryUtilization
    if (u === undefined || (e.type !== 'vllm' && e.type !== 'sglang')) continue
    if (threshold < u + CONTEXT_OVERHEAD_RATIO) {
      const flag = e.type === 'vllm' ? '--gpu-memory-utilization' : '--mem-fraction-static'
      warnings.push(
        `LLMGPUMemoryHigh fires above ${Math.round(threshold * 100)}% GPU memory, but ${e.type} at ${e.targets.join(', ')} pre-allocates ${u} of the card (${flag}) plus the CUDA context: nvidia-smi shows about ${Math.round((u + CONTEXT_OVERHEAD_RATIO) * 100)}% from the first second, so the alert would fire all the time. ` +
          `Start the engine with a lower ${flag} (e.g. ${Number((threshold - 0.07).toFixed(2))}; \`inferwatch plan\` shows what still fits) or raise alerts.gpuMemoryHigh.ratio above ${Number((u + CONTEXT_OVERHEAD_RATIO + 0.01).toFixed(2))}. KV cache usage (LLMKVCacheHigh) is the real pressure signal.`,
      )
    }
  }
  // Without a proxy, the long-context share comes from vLLM's prompt-token histogram, whose
  // buckets are 1-2-5 values up to max_model_len (build_1_2_5_buckets,
  // https://github.com/vllm-project/vllm/blob/main/vllm/v1/metrics/loggers.py).
  const n = plan.longFromTokens
  if (plan.engines.some((e) => e.type === 'vllm') && !isOneTwoFive(n)) {
    const [lower, upper] = oneTwoFiveAround(n)
    warnings.push(
      `contextClasses.longFromTokens is ${n}, but vLLM's vllm:request_prompt_tokens histogram only has buckets at 1-2-5 values (..., ${lower}, ${upper}, ...): without the proxy in the path, llm:long_context_requests:ratio_rate5m has no vLLM source and LLMLongContextOverload cannot fire. ` +
        `Pick a 1-2-5 value (e.g. ${lower}) or send traffic through \`inferwatch proxy\`, which tags every request exactly.`,
    )
  }
  return warnings
}

const isOneTwoFive = (n: number): boolean => /^[125]0*$/.test(String(n))

/** The largest 1-2-5 bucket boundary at or below n (n >= 1), and the one after it. */
function oneTwoFiveAround(n: number): [number, number] {
  let b = 1
  const next = (x: number) => (/^2/.test(String(x)) ? (x / 2) * 5 : x * 2)
  while (next(b) <= n) b = next(b)
  return [b, next(b)]
}

export interface RenderedFile {
  /** Relative to the output directory. */
  path: string
  text: string
}

/** Every generated file, rendered in memory. */
export function renderRulesFiles(plan: RulesPlan): RenderedFile[] {
  const files: RenderedFile[] = [
    { path: 'prometheus.yml', text: renderPrometheusConfig(plan) },
    { path: RULES_FILE, text: renderRuleFile(plan) },
    { path: RULE_TESTS_FILE, text: renderRuleTests(plan) },
    { path: 'alertmanager.yml', text: renderAlertmanagerConfig(plan) },
    { path: 'grafana/inferwatch.json', text: renderGrafanaDashboard(plan) },
    { path: 'k8s/prometheus-rule.yaml', text: renderK8sPrometheusRule(plan) },
    { path: 'k8s/monitors.yaml', text: renderK8sMonitors(plan) },
    { path: 'k8s/proxy.yaml', text: renderK8sProxy(plan) },
  ]
  const secret = renderK8sSecret(plan)
  if (secret) files.push({ path: 'k8s/admin-token-secret.yaml', text: secret })
  return files
}

export interface WriteRulesResult {
  outDir: string
  /** Absolute paths written, in order. */
  files: string[]
  warnings: string[]
  plan: RulesPlan
}

/** Renders everything from the config and writes it under `outDir` (created if missing). */
export async function writeRules(
  config: Readonly<Config>,
  outDir: string,
  options: PlanOverrides = {},
): Promise<WriteRulesResult> {
  const plan = planRules(config, options)
  const files: string[] = []
  for (const f of renderRulesFiles(plan)) {
    const target = join(outDir, f.path)
    try {
      await mkdir(dirname(target), { recursive: true })
      await writeFile(target, f.text)
    } catch (cause) {
      throw new AppError('RULES_OUT_DIR', `cannot write ${target}: ${(cause as Error).message}`, {
        cause,
        hint: 'pick a writable --out directory',
      })
    }
    files.push(target)
  }
  return { outDir, files, warnings: checkRulesPlan(plan), plan }
}
