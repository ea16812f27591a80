import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { parseConfig } from '../config/index.js'
import type { Meter } from '../meter/index.js'
import { startScriptedEngine } from '../sim/index.js'
import { REPO_ROOT } from '../testing/index.js'
import { createStandIn } from '../testing/nvidia-smi-stand-in.js'
import { startProxyService } from './index.js'

// `inferwatch proxy` runs the GPU collector: the config's gpu.* keys reach it, and its
// hw_gpu_* series appear on the admin /metrics that Prometheus scrapes. Real H200 captures.
const TESTDATA = join(REPO_ROOT, 'src/gpu/testdata')
const quietMeter: Meter = { observe: () => undefined, setServedModels: () => {}, async close() {} }

test('the proxy service exports hw_gpu_* and GPU processes from the configured nvidia-smi', async (t) => {
  const gpuOut = readFileSync(join(TESTDATA, 'h200-load-query-gpu.csv'), 'utf8')
  const appsOut = readFileSync(join(TESTDATA, 'h200-load-query-compute-apps.csv'), 'utf8')
    .split('\n')
    .filter((l) => !l.startsWith('exit='))
    .join('\n')
  const smi = await createStandIn({ gpuOut, appsOut })
  t.after(() => smi.remove())
  const engine = await startScriptedEngine()
  t.after(() => engine.close())
  const config = parseConfig({
    upstream: engine.url,
    listen: '127.0.0.1:0',
    admin: '127.0.0.1:0',
    gpu: { nvidiaSmiPath: smi.path, processes: true, intervalMs: 60_000 },
  })
  const service = await startProxyService(config, { meter: quietMeter })
  t.after(() => service.close())

  let text = ''
  // Up to 15 s: on a loaded machine the first nvidia-smi run (a spawned script) can take seconds.
  // The sample line, anchored: the metric's HELP text also reads "inferwatch_gpu_collector_up 1".
  for (let i = 0; i < 300 && !/^inferwatch_gpu_collector_up 1$/m.test(text); i++) {
    if (i) await new Promise((r) => setTimeout(r, 50))
    text = await (await fetch(`${service.adminUrl}/metrics`)).text()
  }
  assert.match(text, /^inferwatch_gpu_collector_up 1$/m)
  const labels = 'gpu="0",hw_id="GPU-fbc17e86-39c3-6e6a-ceb6-3d4d06d7e93f",hw_name="NVIDIA H200"'
  // 103411 MiB of 143771 MiB, as nvidia-smi printed them on the H200 under load.
  assert.ok(text.includes(`hw_gpu_memory_usage_bytes{${labels}} ${103411 * 1048576}`), text)
  assert.ok(text.includes(`hw_gpu_memory_limit_bytes{${labels}} ${143771 * 1048576}`), text)
  assert.match(
    text,
    /^inferwatch_gpu_process_memory_bytes\{.*pid="438".*process_name="python3".*\} \d+$/m,
  )
  const calls = await smi.calls()
  assert.ok(
    calls.some((c) => c[0]?.startsWith('--query-compute-apps=')),
    'gpu.processes reached it',
  )
})
