import type { Config } from '../config/index.js'

/** The `relay:` section of inferwatch.yaml, as parsed by src/config. */
export type RelayConfig = Config['relay']
export type RelayChannelConfig = RelayConfig['channels'][number]
