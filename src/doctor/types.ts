import type { EngineInfo, FetchFn } from '../engines/index.js'
import type { GpuSnapshot } from '../gpu/index.js'

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip'

export interface DoctorCheck {
  /** Stable id, e.g. `engine.metrics` (JSON consumers branch on it). */
  id: string
  title: string
  status: CheckStatus
  /** One line: what was found. */
  finding: string
  /** What to do, on warn and fail. */
  fix?: string
}

export interface DoctorReport {
  ok: boolean
  upstream: string
  checks: DoctorCheck[]
  /** What discovery found, when the engine answered. */
  engine?: EngineInfo
  counts: Record<CheckStatus, number>
}

/** KV-capacity estimate for a model, e.g. from src/plan's planCapacity. */
export interface KvEstimate {
  kvTokens: number
  /** Where the numbers came from, e.g. "plan: qwen3-4b-instruct-2507 on rtx-4090d at 0.9". */
  source: string
}

export interface DoctorOptions {
  /** Engine base URL (what the proxy forwards to). */
  upstream: string
  prometheus?: string
  alertmanager?: string
  /** inferwatch admin base URL (proxy /metrics, /healthz, /hooks/alertmanager). */
  adminUrl?: string
  /** Bearer token for the admin /metrics (config adminToken), when set. */
  adminToken?: string
  fetch?: FetchFn
  /** The engine's log (a file or `docker logs` output), scanned for why a start failed. */
  engineLog?: { name: string; text: string }
  /** The engine's API key (vLLM/TGI/llama.cpp `--api-key`), for discovery and the completion. */
  apiKey?: string
  /** Per HTTP probe. Default 3000. */
  timeoutMs?: number
  /** The tiny completion. Default 60000 (a cold engine may compile on its first request). */
  completionTimeoutMs?: number
  /** One GPU read (src/gpu readGpuSnapshot); absent: the GPU check is skipped. */
  readGpu?: () => Promise<GpuSnapshot>
  /** alerts.gpuMemoryHigh.ratio from the config (default 0.92); the deployed rule wins when found. */
  gpuMemoryAlertRatio?: number
  /** The --gpu-memory-utilization the config says the engine runs with (used when the engine does not report it). */
  gpuMemoryUtilization?: number
  /** KV capacity when the engine does not report it; default: src/plan's estimate for a built-in model on the GPU read. */
  estimateKv?: (engine: EngineInfo, gpu: GpuSnapshot | undefined) => KvEstimate | undefined
  /** Monotonic clock in ms for timings (performance.now by default). */
  nowMs?: () => number
}
