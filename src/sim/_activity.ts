// How busy the simulated GPU has been lately, the way nvidia-smi reports it: utilization.gpu is
// the share of the last sample period (1/6 s to 1 s, https://docs.nvidia.com/deploy/nvidia-smi/)
// in which a kernel ran; utilization.memory the share spent reading or writing memory. Engine
// steps are recorded as they start (their end is known) into 0.1 s buckets of simulated time.

const BUCKET_S = 0.1
const BUCKETS = 128

export interface ActivityMeter {
  /** A step busy from `startS` to `endS`; `compute`/`memory` are the shares of it bound by each. */
  record(startS: number, endS: number, compute: number, memory: number): void
  /** Shares of [nowS - windowS, nowS] that were busy / compute / memory. */
  read(nowS: number, windowS: number): { busy: number; compute: number; memory: number }
  reset(): void
}

export function createActivityMeter(): ActivityMeter {
  const id = new Float64Array(BUCKETS).fill(-1)
  const busy = new Float64Array(BUCKETS)
  const compute = new Float64Array(BUCKETS)
  const memory = new Float64Array(BUCKETS)

  const slot = (k: number): number => {
    const i = k % BUCKETS
    if (id[i] !== k) {
      id[i] = k
      busy[i] = 0
      compute[i] = 0
      memory[i] = 0
    }
    return i
  }

  return {
    record(startS, endS, c, m) {
      let from = startS
      // A step longer than the ring (a huge prefill) only needs its last stretch.
      if (endS - from > (BUCKETS - 2) * BUCKET_S) from = endS - (BUCKETS - 2) * BUCKET_S
      const first = Math.floor(from / BUCKET_S)
      const last = Math.floor(endS / BUCKET_S)
      for (let k = first; k <= last; k++) {
        const d = Math.min(endS, (k + 1) * BUCKET_S) - Math.max(from, k * BUCKET_S)
        if (d <= 0) continue
        const i = slot(k)
        busy[i] = (busy[i] ?? 0) + d
        compute[i] = (compute[i] ?? 0) + d * c
        memory[i] = (memory[i] ?? 0) + d * m
      }
    },
    read(nowS, windowS) {
      const start = Math.max(0, nowS - windowS)
      const span = nowS - start
      if (span <= 0) return { busy: 0, compute: 0, memory: 0 }
      let b = 0
      let c = 0
      let m = 0
      for (let k = Math.floor(start / BUCKET_S); k * BUCKET_S < nowS; k++) {
        const i = k % BUCKETS
        if (id[i] !== k) continue
        // Time in the bucket is spread evenly: take the part of it inside the window.
        const lo = Math.max(start, k * BUCKET_S)
        const hi = Math.min(nowS, (k + 1) * BUCKET_S)
        const share = (hi - lo) / BUCKET_S
        b += (busy[i] ?? 0) * share
        c += (compute[i] ?? 0) * share
        m += (memory[i] ?? 0) * share
      }
      const clamp = (x: number) => Math.max(0, Math.min(1, x / span))
      return { busy: clamp(b), compute: clamp(c), memory: clamp(m) }
    },
    reset() {
      id.fill(-1)
    },
  }
}
