export { type LoadConfigOptions, loadConfig, parseConfig } from './load.js'
export { type Config, configSchema } from './schema.js'
