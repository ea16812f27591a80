/** One physical GPU as nvidia-smi reported it. `null` = the value was unavailable (never 0). */
export interface GpuReading {
  index: number
  /** `GPU-…` UUID, exported as label `hw_id`. */
  uuid: string
  name: string
  pciBusId: string | null
  driverVersion: string | null
  memoryTotalBytes: number | null
  memoryUsedBytes: number | null
  /** used / total: the fraction of the card's memory that is allocated (not nvidia-smi's utilization.memory). */
  memoryUsedRatio: number | null
  /** utilization.gpu / 100: share of time a kernel ran ([N/A] on MIG-enabled GPUs). */
  utilizationRatio: number | null
  /** utilization.memory / 100: share of time device memory was read or written (bandwidth, not capacity). */
  memoryBusyRatio: number | null
  temperatureCelsius: number | null
  powerDrawWatts: number | null
  powerLimitWatts: number | null
  migEnabled: boolean | null
}

/** One process holding GPU memory (`--query-compute-apps`). */
export interface GpuProcess {
  gpuUuid: string
  pid: number
  processName: string
  /** null on Windows WDDM and where the driver hides it. */
  usedMemoryBytes: number | null
}

export interface GpuSnapshot {
  takenAtMs: number
  gpus: GpuReading[]
  /** Present when processes were asked for and the query worked. */
  processes?: GpuProcess[]
  /** Why the process query failed (the GPU read itself worked). */
  processesError?: string
}
