import { AppError } from '../shared/index.js'

export interface GpuProfile {
  id: string
  name: string
  /** What nvidia-smi reports as memory.total (MiB x 1048576): the base of the vLLM fraction. */
  memoryBytes: number
  /** Peak memory bandwidth, bytes/s (decode is bandwidth-bound). */
  bandwidthBytesPerSecond: number
  /** Peak dense BF16 tensor throughput with FP32 accumulate, FLOP/s (prefill is compute-bound);
   * absent for a profile built from a measured card. */
  bf16FlopsPerSecond?: number
  /** nvidia-smi `name` values that mean this profile. */
  hwNames: RegExp
}

const MIB = 1048576
const GBPS = 1e9

// memory.total as nvidia-smi prints it: H200 143771 MiB (src/gpu/testdata/h200-*.csv), H100
// 81559 MiB (nvidia_gpu_exporter's captures, https://github.com/utkuozdemir/nvidia_gpu_exporter),
// RTX 4090 24564 MiB (https://github.com/RLinf/RLinf/issues/255; the 4090 D is assumed equal:
// same 24 GB GDDR6X, no capture), the others from their usual nvidia-smi tables. Bandwidth from
// the vendor spec sheets (RTX 4090 D 1008 GB/s: 384-bit GDDR6X at 21 Gbps; A100 80GB and H100 are
// the SXM figures, the PCIe cards are slower). Dense BF16 tensor FLOP/s (no sparsity, FP32
// accumulate) from the same sheets: RTX 4090 165.2 T (Ada whitepaper,
// https://images.nvidia.com/aem-dam/Solutions/geforce/ada/nvidia-ada-gpu-architecture.pdf), the
// 4090 D scaled by its 114 of 128 SMs at the same boost clock; L40S 362 T; A100 312 T; H100 SXM
// and H200 989 T (https://www.nvidia.com/en-us/data-center/h200/).
export const GPU_PROFILES: readonly Readonly<GpuProfile>[] = Object.freeze([
  {
    id: 'rtx-4090d',
    name: 'RTX 4090 D',
    memoryBytes: 24564 * MIB,
    bandwidthBytesPerSecond: 1008 * GBPS,
    bf16FlopsPerSecond: 147e12,
    hwNames: /rtx 4090 d\b/i,
  },
  {
    id: 'rtx-4090',
    name: 'RTX 4090',
    memoryBytes: 24564 * MIB,
    bandwidthBytesPerSecond: 1008 * GBPS,
    bf16FlopsPerSecond: 165.2e12,
    hwNames: /rtx 4090$/i,
  },
  {
    id: 'l40s',
    name: 'L40S',
    memoryBytes: 46068 * MIB,
    bandwidthBytesPerSecond: 864 * GBPS,
    bf16FlopsPerSecond: 362e12,
    hwNames: /\bl40s\b/i,
  },
  {
    id: 'a100-40gb',
    name: 'A100 40GB',
    memoryBytes: 40960 * MIB,
    bandwidthBytesPerSecond: 1555 * GBPS,
    bf16FlopsPerSecond: 312e12,
    hwNames: /a100.*40\s?gb/i,
  },
  {
    id: 'a100-80gb',
    name: 'A100 80GB',
    memoryBytes: 81920 * MIB,
    bandwidthBytesPerSecond: 2039 * GBPS,
    bf16FlopsPerSecond: 312e12,
    hwNames: /a100.*80\s?gb/i,
  },
  {
    id: 'h100-80gb',
    name: 'H100 80GB',
    memoryBytes: 81559 * MIB,
    bandwidthBytesPerSecond: 3350 * GBPS,
    bf16FlopsPerSecond: 989e12,
    hwNames: /\bh100\b/i,
  },
  {
    id: 'h200',
    name: 'H200 141GB',
    memoryBytes: 143771 * MIB,
    bandwidthBytesPerSecond: 4800 * GBPS,
    bf16FlopsPerSecond: 989e12,
    hwNames: /\bh200\b/i,
  },
])

const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '')

/** A profile by id ("rtx-4090d", "RTX 4090 D") or by nvidia-smi name ("NVIDIA H100 80GB HBM3"). */
export function findGpuProfile(name: string): GpuProfile | undefined {
  const n = norm(name)
  return (
    GPU_PROFILES.find((g) => norm(g.id) === n || norm(g.name) === n) ??
    GPU_PROFILES.find((g) => g.hwNames.test(name.trim()))
  )
}

export function resolveGpu(name: string): GpuProfile {
  const found = findGpuProfile(name)
  if (found) return found
  throw new AppError('PLAN_UNKNOWN_GPU', `no built-in GPU profile "${name}"`, {
    hint: `use one of ${GPU_PROFILES.map((g) => g.id).join(', ')}, or the closest one with --gpu-memory-gib N (memory.total from nvidia-smi, in GiB)`,
  })
}
