export {
  type HttpUrl,
  hostPortKey,
  httpUrlKey,
  localUrlOf,
  parseHostPort,
  parseHttpUrl,
} from './_values.js'
export { type LoadConfigOptions, loadConfig, parseConfig } from './load.js'
export { type Config, configSchema } from './schema.js'
