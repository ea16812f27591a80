// What nvidia-smi shows of each built-in GPU profile besides memory (which comes from
// src/plan): the name string, driver, power limit, and idle/load power and temperature. The H200
// figures are the real captures in src/gpu/testdata (idle 134.23 W at 41 C, 692.88 W at 60 C
// under bf16 matmuls, limit 700 W, MIG "Disabled"); the RTX 4090 D ones from
// src/gpu/testdata/two-gpus.csv (425 W limit, 21.37 W idle at 34 C, 71 C loaded); the others'
// limits from the vendor spec sheets, their idle figures typical of such cards.

export interface CardFacts {
  /** nvidia-smi `name`. */
  name: string
  driverVersion: string
  cudaVersion: string
  powerLimitWatts: number
  idleWatts: number
  idleCelsius: number
  loadCelsius: number
  /** `mig.mode.current`: "[N/A]" on cards without MIG. */
  mig: 'Disabled' | '[N/A]'
}

const DATACENTER = { driverVersion: '580.159.04', cudaVersion: '13.0', mig: 'Disabled' } as const
const GEFORCE = { driverVersion: '570.124.06', cudaVersion: '12.8', mig: '[N/A]' } as const

const CARDS: Record<string, CardFacts> = {
  'rtx-4090d': {
    ...GEFORCE,
    name: 'NVIDIA GeForce RTX 4090 D',
    powerLimitWatts: 425,
    idleWatts: 21.37,
    idleCelsius: 34,
    loadCelsius: 71,
  },
  'rtx-4090': {
    ...GEFORCE,
    name: 'NVIDIA GeForce RTX 4090',
    powerLimitWatts: 450,
    idleWatts: 22,
    idleCelsius: 34,
    loadCelsius: 72,
  },
  l40s: {
    ...DATACENTER,
    mig: '[N/A]',
    name: 'NVIDIA L40S',
    powerLimitWatts: 350,
    idleWatts: 36,
    idleCelsius: 32,
    loadCelsius: 68,
  },
  'a100-40gb': {
    ...DATACENTER,
    name: 'NVIDIA A100-SXM4-40GB',
    powerLimitWatts: 400,
    idleWatts: 54,
    idleCelsius: 31,
    loadCelsius: 62,
  },
  'a100-80gb': {
    ...DATACENTER,
    name: 'NVIDIA A100-SXM4-80GB',
    powerLimitWatts: 400,
    idleWatts: 60,
    idleCelsius: 32,
    loadCelsius: 63,
  },
  'h100-80gb': {
    ...DATACENTER,
    name: 'NVIDIA H100 80GB HBM3',
    powerLimitWatts: 700,
    idleWatts: 72,
    idleCelsius: 33,
    loadCelsius: 62,
  },
  h200: {
    ...DATACENTER,
    name: 'NVIDIA H200',
    powerLimitWatts: 700,
    idleWatts: 134.23,
    idleCelsius: 41,
    loadCelsius: 60,
  },
}

export function cardFacts(gpuId: string, profileName: string): CardFacts {
  return (
    CARDS[gpuId] ?? {
      ...DATACENTER,
      name: `NVIDIA ${profileName}`,
      powerLimitWatts: 400,
      idleWatts: 50,
      idleCelsius: 33,
      loadCelsius: 65,
    }
  )
}
